"""The revised ETA (`domain.eta.revise`): evidence for propagation (the platform's apply latency,
the regions applied), never in the past, and plain words when a stage is late."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.eta import EtaFacts, revise, until_propagation
from domain.policy import OrderPolicy, resolve_policy
from domain.stages import Stage
from domain.status import Escalation, EscalationReason, Severity
from tests.support.factories import make_order
from tests.support.fakes import fake_latency

NOW = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def policy() -> OrderPolicy:
    return resolve_policy(make_order(), NOW)  # alipay, plan: propagation 15-30 min


def propagating(minutes_in: float, **facts: object) -> EtaFacts:
    data: dict[str, object] = {
        "stage": Stage.PROPAGATING,
        "stage_started_at": NOW - minutes_in * MIN,
        "change_kinds": ("plan",),
        "regions_applied": 3,
        "regions_total": 8,
    }
    data.update(facts)
    return EtaFacts.model_validate(data)


def test_on_time_without_evidence_is_the_policy_window() -> None:
    eta = revise(policy(), "alipay", propagating(10), NOW)
    # 30 min window, 10 spent, then activation 0-1 and notification 0-1.
    assert eta.earliest == NOW + 5 * MIN
    assert eta.latest == NOW + 22 * MIN
    assert eta.overdue_s is None and eta.late is None
    assert eta.evidence == "3 of 8 regions applied"


def test_the_platforms_latency_replaces_the_propagation_window() -> None:
    latency = fake_latency(2.0, peak=True)  # plan: 38.4-45 min
    eta = revise(policy(), "alipay", propagating(10, latency=latency), NOW)
    assert eta.earliest == NOW + 28.4 * MIN
    assert eta.latest == NOW + 37 * MIN
    assert "x2" in (eta.evidence or "") and "peak hours" in (eta.evidence or "")
    assert "the platform's apply latency" in eta.basis


def test_past_the_policy_window_but_inside_the_evidence_is_late_with_a_revised_interval() -> None:
    latency = fake_latency(2.0, peak=True)
    eta = revise(policy(), "alipay", propagating(40, latency=latency, sla_at=NOW + 80 * MIN), NOW)
    assert eta.overdue_s == pytest.approx(10 * 60)
    assert eta.overdue_stage is Stage.PROPAGATING
    assert eta.latest == NOW + 7 * MIN
    assert eta.late is not None
    assert eta.late.startswith("Late: config propagation is 10 min past its typical window. ")
    assert "Nobody yet: a ticket opens at 2026-03-09 03:20:00 UTC" in eta.late
    assert "Revised: by 02:07:00 UTC (3 of 8 regions applied; platform apply latency x2" in eta.late


def test_past_every_window_there_is_no_estimate_and_the_words_say_why() -> None:
    ticket = Escalation(
        reason=EscalationReason.ACTIVATION_SLA,
        ticket_id="TCK-9",
        severity=Severity.HIGH,
        stage=Stage.PROPAGATING,
        opened_at=NOW - 5 * MIN,
    )
    facts = propagating(130, latency=fake_latency(), ticket=ticket, attention_id="activation_sla-1")
    eta = revise(policy(), "alipay", facts, NOW)
    assert eta.latest is None and eta.earliest == NOW
    assert eta.ticket_id == "TCK-9" and eta.attention_id == "activation_sla-1"
    assert "does not explain the delay" in (eta.no_estimate or "")
    assert eta.late is not None
    assert (
        "A person is on ticket TCK-9 (activation_sla, opened 2026-03-09 01:55:00 UTC)" in eta.late
    )
    assert "No estimate is possible: 3 of 8 regions applied after 2.17 h" in eta.late


def test_no_latency_reported_says_so() -> None:
    eta = revise(policy(), "alipay", propagating(45), NOW)
    assert eta.latest is None
    assert "the platform reported no apply latency" in (eta.no_estimate or "")


def test_every_region_applied_leaves_only_the_stages_ahead() -> None:
    eta = revise(policy(), "alipay", propagating(45, regions_applied=8), NOW)
    assert eta.earliest == NOW and eta.latest == NOW + 2 * MIN
    assert eta.overdue_s == pytest.approx(15 * 60)


def test_a_failing_call_past_its_window_cannot_be_estimated() -> None:
    facts = EtaFacts(stage=Stage.UPDATING_BILLING, stage_started_at=NOW - 5 * MIN, attempts=2)
    eta = revise(policy(), "alipay", facts, NOW)
    assert eta.latest is None
    assert eta.no_estimate == (
        "billing update has run 5 min, past its typical window; nothing tells when it ends"
    )


def test_a_call_in_flight_without_failure_is_late_but_revised_to_its_own_window() -> None:
    facts = EtaFacts(stage=Stage.UPDATING_BILLING, stage_started_at=NOW - 5 * MIN)
    eta = revise(policy(), "alipay", facts, NOW)
    # The call's own minute from now, then propagation 15-30, activation, notification.
    assert eta.earliest == NOW + 15 * MIN and eta.latest == NOW + 33 * MIN
    assert eta.overdue_s == pytest.approx(4 * 60)
    assert "(a call in flight, no failure yet)" in (eta.late or "")


def test_an_allocation_past_its_window_cannot_be_estimated() -> None:
    order_policy = resolve_policy(make_order(features=("ai.conversational_multimodal",)), NOW)
    facts = EtaFacts(stage=Stage.ALLOCATING_RESOURCES, stage_started_at=NOW - 40 * MIN)
    eta = revise(order_policy, "alipay", facts, NOW)
    assert eta.latest is None and eta.overdue_s == pytest.approx(10 * 60)


def test_before_propagation_the_latency_of_now_stands_for_it() -> None:
    facts = EtaFacts(
        stage=Stage.RECONCILING,
        stage_started_at=NOW,
        change_kinds=("plan",),
        latency=fake_latency(2.0, peak=True),
    )
    eta = revise(policy(), "alipay", facts, NOW)
    # reconcile 0-1, billing 0-1, propagation 38.4-45 (the platform's), activation, notification.
    assert eta.earliest == NOW + 38.4 * MIN
    assert eta.latest == NOW + 49 * MIN


def test_the_runs_check_interval_widens_only_the_latest_end_of_propagation() -> None:
    # The run sees a region applied at its next check: up to one interval after the platform.
    lag = 6 * MIN
    latency = fake_latency(1.0)  # plan: 19.2-22.5 min
    during = revise(policy(), "alipay", propagating(10, latency=latency, sight_lag=lag), NOW)
    assert during.earliest == NOW + 9.2 * MIN
    assert during.latest == NOW + (22.5 - 10 + 6 + 2) * MIN
    before = EtaFacts(
        stage=Stage.RECONCILING,
        stage_started_at=NOW,
        change_kinds=("plan",),
        latency=latency,
        sight_lag=lag,
    )
    ahead = revise(policy(), "alipay", before, NOW)
    assert ahead.earliest == NOW + 19.2 * MIN
    assert ahead.latest == NOW + (1 + 1 + 22.5 + 6 + 1 + 1) * MIN
    # Late is measured against the typical window, not the window widened by the lag.
    late = revise(policy(), "alipay", propagating(33, sight_lag=lag), NOW)
    assert late.overdue_s == pytest.approx(3 * 60)
    assert late.latest == NOW + (36 - 33 + 2) * MIN


def test_the_lag_does_not_apply_to_a_call_stage() -> None:
    facts = EtaFacts(stage=Stage.ACTIVATING, stage_started_at=NOW, sight_lag=6 * MIN)
    eta = revise(policy(), "alipay", facts, NOW)
    assert eta.latest == NOW + 2 * MIN


def test_before_propagation_the_load_range_widens_the_interval() -> None:
    # The push is still to come: its factor may be anywhere the load may move to by then.
    facts = EtaFacts(
        stage=Stage.RECONCILING,
        stage_started_at=NOW,
        change_kinds=("plan",),
        latency=fake_latency(2.0, peak=True, load_range=(1.5, 2.5)),  # plan at 2.0: 38.4-45 min
    )
    eta = revise(policy(), "alipay", facts, NOW)
    assert eta.earliest == NOW + 38.4 * 1.5 / 2 * MIN
    assert eta.latest == NOW + (1 + 1 + 45 * 2.5 / 2 + 1 + 1) * MIN
    assert eta.evidence == "platform load x2, may move to x1.5-2.5 by the push"
    # A reading without the range (a platform without it, a history recorded before) is as before.
    unranged = facts.model_copy(update={"latency": fake_latency(2.0, peak=True)})
    assert revise(policy(), "alipay", unranged, NOW).latest == NOW + 49 * MIN


def test_once_propagation_started_the_pushes_factor_is_fixed_and_the_range_ignored() -> None:
    ranged = fake_latency(2.0, peak=True, load_range=(1.5, 2.5))
    with_range = revise(policy(), "alipay", propagating(10, latency=ranged), NOW)
    without = revise(policy(), "alipay", propagating(10, latency=fake_latency(2.0, peak=True)), NOW)
    assert (with_range.earliest, with_range.latest) == (without.earliest, without.latest)


def test_the_horizon_until_propagation_is_the_latest_ends_of_the_stages_before_it() -> None:
    # alipay plan: reconciliation and billing, 1 min each at most; no allocation.
    assert until_propagation(policy(), "alipay", Stage.RECONCILING) == 2 * MIN
    assert until_propagation(policy(), "alipay", Stage.UPDATING_BILLING) == 1 * MIN
    assert until_propagation(policy(), "alipay", Stage.PROPAGATING) is None
    assert until_propagation(policy(), "alipay", Stage.ACTIVE) is None
