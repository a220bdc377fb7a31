"""The Web UI's current details of a run: short lines an operator reads in half a page."""

from collections.abc import Callable
from datetime import timedelta

import pytest

from domain.stages import Stage
from domain.status import (
    CompensationRecord,
    Escalation,
    EscalationReason,
    Eta,
    PaymentProgress,
    RegionProgress,
    Severity,
    StageRecord,
    UpgradeStatus,
)
from tests.support.statuses import (
    at,
    cancelled_status,
    make_status,
    needs_attention_status,
    records,
)
from workflows.details import details_markdown


def test_a_lagging_run_says_stage_regions_eta_and_the_open_ticket() -> None:
    lines = details_markdown(make_status()).splitlines()
    assert lines[0] == "**Stage:** `propagating` · regions 5/8 applied"
    assert lines[1] == "**ETA:** 11:30:00 – 12:10:00 UTC"
    assert lines[2].startswith("_based on: config propagation 15 min-30 min (running 2.42 h")
    assert lines[3] == (
        "**Escalation:** `activation_sla` (high), ticket TCK-00042, opened 11:02:00 in "
        "`propagating`, **open**"
    )
    assert "**Stages** (UTC, run started 2026-11-24 09:00:00)" in lines
    assert "✓ `updating_billing` 09:03:00 → 09:05:00 (2m00s)" in lines
    assert "▶ `propagating` 09:05:00 → now (running)" in lines
    assert "· ahead: `activating` → `notifying` → `active`" in lines
    assert "**Regions:** 5/8 applied" in lines
    assert "- pushed, not applied yet (3): eu-west ×2, us-east ×2, us-west ×2" in lines
    assert "- applied (5): cn-north, cn-east, cn-south, ap-southeast, ap-northeast" in lines
    # No wide tables: the UI wraps their cells into unreadable columns.
    assert not any(line.startswith("|") for line in lines)


def test_needs_attention_names_the_refusal_and_the_command_that_answers_it() -> None:
    text = details_markdown(needs_attention_status())
    assert "**ETA:** none — waiting for an operator decision" in text
    assert "**Needs attention:** `capacity_refused` since 09:04:00: no capacity for " in text
    assert "**Answer:** `starter.py resolve ORD-7 --action approve|retry|reject`" in text
    assert (
        "✗ `allocating_resources` 09:03:00 → left (interrupted) · 1 failed attempt: "
        "no capacity in eu-west"
    ) in text
    assert "◇ `needs_attention` 09:04:00 → now (waiting for operator)" in text
    assert "· ahead: `propagating` → `activating` → `notifying` → `active`" in text


def test_a_cancelled_run_lists_its_compensations_and_the_rollback() -> None:
    text = details_markdown(cancelled_status())
    assert text.startswith("**Stage:** `cancelled` — the customer changed their mind\n")
    assert "regions 0/8" not in text.splitlines()[0]  # a closed run: no progress in the title
    assert "**Cancel requested" not in text  # said by the stage itself once cancelled
    assert "**Regions:** 0/8 applied, then all rolled back at 09:31:00" in text
    assert "- pushed, not applied (8): cn-north, cn-east," in text  # no "yet": the run is over
    assert "- `refund_payment`: done at 09:33:00 (600.00 CNY)" in text
    assert "■ `cancelled` 09:40:00" in text and "ahead" not in text


def test_a_run_over_several_days_dates_the_times_off_its_first_day() -> None:
    status = make_status()
    late = status.eta.model_copy(
        update={"earliest": at(0) + timedelta(days=3), "latest": at(0) + timedelta(days=3, hours=2)}
    )
    text = details_markdown(status.model_copy(update={"eta": late}))
    assert "**ETA:** 11-27 09:00:00 – 11-27 11:00:00 UTC" in text


def slow_transfer_status() -> UpgradeStatus:
    """A corporate transfer not confirmed after two days: one ETA moment, a deadline on another
    day, a closed ticket, a failing stage, a pending cancel."""
    return make_status(
        stage=Stage.AWAITING_PAYMENT,
        payment_method="corporate_transfer",
        payment=PaymentProgress(status="pending", polls=3, deadline=at(0) + timedelta(days=3)),
        stages=[
            StageRecord(
                stage=Stage.AWAITING_PAYMENT,
                started_at=at(0),
                attempts=2,
                last_error="bank reconciliation file not ready",
            )
        ],
        regions=[],
        escalations=[
            Escalation(
                reason=EscalationReason.PAYMENT_OVERDUE,
                ticket_id="TCK-00007",
                severity=Severity.NORMAL,
                stage=Stage.AWAITING_PAYMENT,
                opened_at=at(0) + timedelta(days=2),
                closed_at=at(0) + timedelta(days=2, hours=1),
            )
        ],
        eta=Eta(earliest=at(45), latest=at(45), basis="a corporate transfer clears by then"),
        cancel_requested="the customer asked to stop",
    )


def compensating_status() -> UpgradeStatus:
    """A run unwinding with nothing to roll back: every region state, a confirmed payment."""
    return make_status(
        stage=Stage.COMPENSATING,
        stages=records(
            (Stage.AWAITING_PAYMENT, 0, 2),
            (Stage.RECONCILING, 2, 3),
            (Stage.UPDATING_BILLING, 3, 5),
            (Stage.PROPAGATING, 5, 9),
            (Stage.COMPENSATING, 9, None),
        ),
        regions=[
            RegionProgress(region="cn-north", state="applied", pushes=1, applied_at=at(6)),
            RegionProgress(region="cn-east", state="pushed", pushes=3),
            RegionProgress(region="eu-west", state="pending"),
            RegionProgress(region="us-east", state="rolled_back", pushes=1),
        ],
        escalations=[],
        eta=Eta(earliest=None, latest=None, basis="will not activate: compensating"),
        compensations=[
            CompensationRecord(step="rollback_config", outcome="nothing_to_undo", at=at(10)),
        ],
    )


# The whole text, byte for byte, for runs that take every branch of the markdown.
WHOLE: dict[Callable[[], UpgradeStatus], tuple[str, ...]] = {
    make_status: (
        "**Stage:** `propagating` · regions 5/8 applied",
        "**ETA:** 11:30:00 – 12:10:00 UTC",
        "_based on: config propagation 15 min-30 min (running 2.42 h, past its typical "
        "window); activation 1 s-30 s; notification 1 s-30 s_",
        "**Escalation:** `activation_sla` (high), ticket TCK-00042, opened 11:02:00 in "
        "`propagating`, **open**",
        "",
        "**Stages** (UTC, run started 2026-11-24 09:00:00)",
        "✓ `awaiting_payment` 09:00:00 → 09:02:00 (2m00s)",
        "✓ `reconciling` 09:02:00 → 09:03:00 (1m00s)",
        "✓ `updating_billing` 09:03:00 → 09:05:00 (2m00s)",
        "▶ `propagating` 09:05:00 → now (running)",
        "· ahead: `activating` → `notifying` → `active`",
        "",
        "**Regions:** 5/8 applied",
        "- pushed, not applied yet (3): eu-west ×2, us-east ×2, us-west ×2",
        "- applied (5): cn-north, cn-east, cn-south, ap-southeast, ap-northeast",
    ),
    needs_attention_status: (
        "**Stage:** `needs_attention`",
        "**ETA:** none — waiting for an operator decision",
        "**Needs attention:** `capacity_refused` since 09:04:00: no capacity for "
        "ai.conversational_multimodal in eu-west",
        "**Answer:** `starter.py resolve ORD-7 --action approve|retry|reject`",
        "**Escalation:** `activation_sla` (high), ticket TCK-00042, opened 11:02:00 in "
        "`propagating`, **open**",
        "",
        "**Stages** (UTC, run started 2026-11-24 09:00:00)",
        "✓ `awaiting_payment` 09:00:00 → 09:01:00 (1m00s)",
        "✓ `reconciling` 09:01:00 → 09:02:00 (1m00s)",
        "✓ `updating_billing` 09:02:00 → 09:03:00 (1m00s)",
        "✗ `allocating_resources` 09:03:00 → left (interrupted) · 1 failed attempt: no "
        "capacity in eu-west",
        "◇ `needs_attention` 09:04:00 → now (waiting for operator)",
        "· ahead: `propagating` → `activating` → `notifying` → `active`",
    ),
    cancelled_status: (
        "**Stage:** `cancelled` — the customer changed their mind",
        "**ETA:** none — will not activate: cancelled",
        "",
        "**Stages** (UTC, run started 2026-11-24 09:00:00)",
        "✓ `awaiting_payment` 09:00:00 → 09:02:00 (2m00s)",
        "✓ `reconciling` 09:02:00 → 09:03:00 (1m00s)",
        "✓ `updating_billing` 09:03:00 → 09:05:00 (2m00s)",
        "✗ `propagating` 09:05:00 → 09:30:00 (25m00s)",
        "✓ `compensating` 09:30:00 → 09:40:00 (10m00s)",
        "■ `cancelled` 09:40:00",
        "",
        "**Regions:** 0/8 applied, then all rolled back at 09:31:00",
        "- pushed, not applied (8): cn-north, cn-east, cn-south, ap-southeast, "
        "ap-northeast, eu-west, us-east, us-west",
        "",
        "**Compensations** (newest step first)",
        "- `rollback_config`: done at 09:31:00",
        "- `revert_billing_plan`: done at 09:32:00",
        "- `refund_payment`: done at 09:33:00 (600.00 CNY)",
    ),
    slow_transfer_status: (
        "**Stage:** `awaiting_payment`",
        "**ETA:** 09:45:00 UTC (a corporate transfer clears by then)",
        "**Escalation:** `payment_overdue` (normal), ticket TCK-00007, opened 11-26 "
        "09:00:00 in `awaiting_payment`, closed 11-26 10:00:00",
        "**Cancel requested:** the customer asked to stop",
        # The code the payer writes in the transfer memo (`channels.reference`).
        "**Payment:** pending, polled 3×, deadline 11-27 09:00:00; reference code `UAZCWCEUJW9` "
        "(transfer memo)",
        "",
        "**Stages** (UTC, run started 2026-11-24 09:00:00)",
        "▶ `awaiting_payment` 09:00:00 → now (running) · 2 failed attempts: bank "
        "reconciliation file not ready",
        "· ahead: `reconciling` → `updating_billing` → `propagating` → `activating` → "
        "`notifying` → `active`",
    ),
    compensating_status: (
        "**Stage:** `compensating` · regions 1/4 applied",
        "**ETA:** none — will not activate: compensating",
        "",
        "**Stages** (UTC, run started 2026-11-24 09:00:00)",
        "✓ `awaiting_payment` 09:00:00 → 09:02:00 (2m00s)",
        "✓ `reconciling` 09:02:00 → 09:03:00 (1m00s)",
        "✓ `updating_billing` 09:03:00 → 09:05:00 (2m00s)",
        "✗ `propagating` 09:05:00 → 09:09:00 (4m00s)",
        "▶ `compensating` 09:09:00 → now (running)",
        "",
        "**Regions:** 1/4 applied",
        "- pushed, not applied yet (1): cn-east ×3",
        "- not pushed yet (1): eu-west",
        "- applied (1): cn-north",
        "- rolled back (1): us-east",
        "",
        "**Compensations** (newest step first)",
        "- `rollback_config`: nothing_to_undo at 09:10:00",
    ),
}


@pytest.mark.parametrize("build", list(WHOLE), ids=lambda build: build.__name__)
def test_the_whole_text(build: Callable[[], UpgradeStatus]) -> None:
    assert details_markdown(build()) == "\n".join(WHOLE[build])


def test_needs_attention_gives_the_id_the_answer_must_name() -> None:
    status = needs_attention_status()
    assert status.attention is not None
    bound = status.model_copy(
        update={"attention": status.attention.model_copy(update={"id": "capacity_refused-1"})}
    )
    text = details_markdown(bound)
    assert (
        "**Answer:** `starter.py resolve ORD-7 --action approve|retry|reject "
        "--attention-id capacity_refused-1`"
    ) in text
