"""The ETA: sums of the policy windows of the stages ahead, minus time already spent."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.eta import estimate_eta, remaining_plan
from domain.policy import OrderPolicy, resolve_policy
from domain.stages import FORWARD_STAGES, Stage
from tests.support.factories import make_order

NOW = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def policy_for(**overrides: object) -> OrderPolicy:
    return resolve_policy(make_order(**overrides), NOW)


def test_awaiting_payment_sums_every_remaining_window() -> None:
    # alipay 0-5, reconcile 0-1, billing 0-1, propagation (plan) 15-30, activate 0-1, notify 0-1.
    eta = estimate_eta(policy_for(), "alipay", Stage.AWAITING_PAYMENT, NOW, NOW)
    assert eta.earliest == NOW + 15 * MIN
    assert eta.latest == NOW + 39 * MIN
    for label in (
        "alipay confirmation",
        "reconciliation",
        "billing update",
        "config propagation",
        "activation",
        "notification",
    ):
        assert label in eta.basis
    assert "resource allocation" not in eta.basis
    assert "client refresh" not in eta.basis
    assert "past its typical window" not in eta.basis


def test_awaiting_payment_equals_the_sum_of_the_plan_windows() -> None:
    policy = policy_for(
        payment_method="corporate_transfer",
        features=("ai.conversational_multimodal", "video.uhd_4k"),
    )
    plan = remaining_plan(policy, "corporate transfer")
    eta = estimate_eta(policy, "corporate transfer", Stage.AWAITING_PAYMENT, NOW, NOW)
    assert eta.earliest == NOW + sum((w.earliest for _, w, _ in plan), timedelta(0))
    assert eta.latest == NOW + sum((w.latest for _, w, _ in plan), timedelta(0))


def test_the_plan_lists_forward_stages_in_order() -> None:
    full = policy_for(features=("ai.conversational_multimodal", "video.hd_720p"))
    assert [s for s, _, _ in remaining_plan(full, "alipay")] == [
        s for s in FORWARD_STAGES if s is not Stage.ACTIVE
    ]
    plain = policy_for()
    assert Stage.ALLOCATING_RESOURCES not in [s for s, _, _ in remaining_plan(plain, "alipay")]


def test_in_the_middle_of_a_stage_the_elapsed_time_is_subtracted() -> None:
    policy = policy_for()  # propagation 15-30 min
    started = NOW - 10 * MIN
    eta = estimate_eta(policy, "alipay", Stage.PROPAGATING, started, NOW)
    # propagation left: 5-20 min; then activation 0-1 and notification 0-1.
    assert eta.earliest == NOW + 5 * MIN
    assert eta.latest == NOW + 22 * MIN


def test_past_the_earliest_end_the_current_stage_adds_nothing_to_earliest() -> None:
    policy = policy_for()
    eta = estimate_eta(policy, "alipay", Stage.PROPAGATING, NOW - 20 * MIN, NOW)
    assert eta.earliest == NOW
    assert eta.latest == NOW + 12 * MIN
    assert "past its typical window" not in eta.basis


def test_past_the_latest_end_basis_says_so_and_latest_is_not_in_the_past() -> None:
    policy = policy_for()
    started = NOW - 3 * timedelta(hours=1)
    eta = estimate_eta(policy, "alipay", Stage.PROPAGATING, started, NOW)
    assert "past its typical window" in eta.basis
    assert "running 3 h" in eta.basis
    assert eta.latest is not None
    assert eta.earliest is not None
    assert eta.latest >= NOW
    assert eta.earliest >= NOW
    # Only what is still ahead is added: activation 0-1 and notification 0-1.
    assert eta.earliest == NOW
    assert eta.latest == NOW + 2 * MIN


def test_eta_moves_forward_with_time_once_overdue() -> None:
    policy = policy_for()
    started = NOW - timedelta(hours=3)
    first = estimate_eta(policy, "alipay", Stage.PROPAGATING, started, NOW)
    later = estimate_eta(policy, "alipay", Stage.PROPAGATING, started, NOW + timedelta(hours=1))
    assert first.latest is not None
    assert later.latest is not None
    assert later.latest == first.latest + timedelta(hours=1)


def test_stage_started_in_the_future_counts_as_no_time_spent() -> None:
    policy = policy_for()
    skewed = estimate_eta(policy, "alipay", Stage.PROPAGATING, NOW + 5 * MIN, NOW)
    fresh = estimate_eta(policy, "alipay", Stage.PROPAGATING, NOW, NOW)
    assert skewed == fresh


def test_capability_adds_allocation() -> None:
    plain = policy_for(features=("api.cloud_recording",))  # advanced: propagation 60-120
    capability = policy_for(features=("ai.conversational_multimodal",))  # also 60-120
    base = estimate_eta(plain, "alipay", Stage.AWAITING_PAYMENT, NOW, NOW)
    eta = estimate_eta(capability, "alipay", Stage.AWAITING_PAYMENT, NOW, NOW)
    assert eta.earliest == base.earliest + 10 * MIN  # type: ignore[operator]
    assert eta.latest == base.latest + 30 * MIN  # type: ignore[operator]
    assert "resource allocation" in eta.basis


def test_eta_during_allocation() -> None:
    policy = policy_for(features=("ai.conversational_multimodal",))
    eta = estimate_eta(policy, "alipay", Stage.ALLOCATING_RESOURCES, NOW - 5 * MIN, NOW)
    # allocation 5-25 left, propagation 60-120, activation 0-1, notification 0-1.
    assert eta.earliest == NOW + 65 * MIN
    assert eta.latest == NOW + 147 * MIN


def test_media_quality_adds_client_refresh() -> None:
    # Same tier + HD: kinds = media_quality only, propagation 15-30 like a plan change.
    plan_only = policy_for()
    media = policy_for(to_plan="basic", features=("video.hd_720p",))
    base = estimate_eta(plan_only, "alipay", Stage.AWAITING_PAYMENT, NOW, NOW)
    eta = estimate_eta(media, "alipay", Stage.AWAITING_PAYMENT, NOW, NOW)
    assert eta.earliest == base.earliest + 5 * MIN  # type: ignore[operator]
    assert eta.latest == base.latest + 15 * MIN  # type: ignore[operator]
    assert "client refresh" in eta.basis


def test_at_notifying_only_notification_and_client_refresh_remain() -> None:
    media = policy_for(features=("video.uhd_4k",))
    eta = estimate_eta(media, "alipay", Stage.NOTIFYING, NOW, NOW)
    assert eta.earliest == NOW + 5 * MIN
    assert eta.latest == NOW + 16 * MIN
    assert eta.basis.startswith("notification + client refresh")


def test_eta_follows_the_time_scale() -> None:
    fast = resolve_policy(make_order(), NOW, time_scale=60)
    eta = estimate_eta(fast, "alipay", Stage.AWAITING_PAYMENT, NOW, NOW)
    assert eta.earliest == NOW + timedelta(seconds=15)
    assert eta.latest == NOW + timedelta(seconds=39)


def test_eta_never_widens_as_the_run_goes_forward() -> None:
    policy = policy_for(features=("ai.conversational_multimodal", "video.hd_720p"))
    stages = [s for s, _, _ in remaining_plan(policy, "alipay")]
    latest = [estimate_eta(policy, "alipay", s, NOW, NOW).latest for s in stages]
    assert latest == sorted(latest, reverse=True)  # type: ignore[type-var]


@pytest.mark.parametrize(
    "stage",
    [
        Stage.ACTIVE,
        Stage.NEEDS_ATTENTION,
        Stage.COMPENSATING,
        Stage.FAILED,
        Stage.CANCELLED,
        Stage.EXPIRED,
    ],
)
def test_non_forward_stage_raises(stage: Stage) -> None:
    with pytest.raises(ValueError, match="no ETA"):
        estimate_eta(policy_for(), "alipay", stage, NOW, NOW)


def test_allocation_stage_without_capability_raises() -> None:
    with pytest.raises(ValueError, match="no ETA"):
        estimate_eta(policy_for(), "alipay", Stage.ALLOCATING_RESOURCES, NOW, NOW)
