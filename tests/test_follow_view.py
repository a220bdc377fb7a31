"""The `follow` view on statuses shaped like the saga's: what an operator reads, row by row."""

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console

from domain.stages import Stage
from domain.status import (
    Attention,
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
from service import follow_view

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
REGIONS = ["cn-north", "cn-east", "cn-south", "ap-southeast", "ap-northeast", "eu-west",
           "us-east", "us-west"]  # fmt: skip


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def records(*spec: tuple[Stage, float, float | None]) -> list[StageRecord]:
    return [
        StageRecord(stage=s, started_at=at(a), ended_at=None if b is None else at(b))
        for s, a, b in spec
    ]


def make_status(**overrides: Any) -> UpgradeStatus:
    data: dict[str, Any] = {
        "order_id": "ORD-7",
        "workflow_id": "upgrade-ORD-7",
        "summary": "ORD-7: basic → standard via alipay",
        "stage": Stage.PROPAGATING,
        "payment_method": "alipay",
        "target_plan": "standard",
        "change_kinds": ["plan"],
        "started_at": at(0),
        "updated_at": at(150),
        "activation_deadline": at(122),
        "payment": PaymentProgress(status="succeeded", via="polling", confirmed_at=at(2), polls=1),
        "stages": records(
            (Stage.AWAITING_PAYMENT, 0, 2),
            (Stage.RECONCILING, 2, 3),
            (Stage.UPDATING_BILLING, 3, 5),
            (Stage.PROPAGATING, 5, None),
        ),
        "regions": [
            RegionProgress(region=r, state="applied", pushes=1, applied_at=at(20))
            for r in REGIONS[:5]
        ]
        + [RegionProgress(region=r, state="pushed", pushes=2) for r in REGIONS[5:]],
        "escalated": True,
        "escalations": [
            Escalation(
                reason=EscalationReason.ACTIVATION_SLA,
                ticket_id="TCK-00042",
                severity=Severity.HIGH,
                stage=Stage.PROPAGATING,
                opened_at=at(122),
            )
        ],
        "eta": Eta(
            earliest=at(150),
            latest=at(190),
            basis="config propagation 15 min-30 min (running 2.42 h, past its typical window); "
            "activation 1 s-30 s; notification 1 s-30 s",
        ),
        "compensations": [],
    }
    data.update(overrides)
    return UpgradeStatus.model_validate(data)


def text_of(status: UpgradeStatus, now: datetime | None = None) -> str:
    console = Console(file=io.StringIO(), width=160, record=True, color_system=None)
    console.print(follow_view.render(status, now or status.updated_at, "footer here"))
    return console.export_text()


def row(text: str, first_cell: str) -> str:
    """The table line whose first cell is `first_cell` (box characters and padding stripped)."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if cells and cells[0] == first_cell:
            return line
    raise AssertionError(f"no row {first_cell!r} in:\n{text}")


def test_a_lagging_propagation_shows_stages_regions_eta_and_the_open_ticket() -> None:
    text = text_of(make_status())
    assert "ORD-7: basic → standard via alipay" in text and "upgrade-ORD-7" in text
    assert "stage propagating" in text
    assert "done" in row(text, "updating_billing")
    running = row(text, "propagating")
    assert "running" in running and "2h25m" in running  # 09:05 until 11:30
    assert "pending" in row(text, "activating") and "pending" in row(text, "active")
    assert "allocating_resources" not in text  # a plan change allocates nothing
    assert "5/8 applied" in text
    assert "applied" in row(text, "cn-north") and "pushed" in row(text, "us-west")
    assert "past its typical window" in text
    assert "11-24 11:30:00 … 11-24 12:10:00" in text and "(in 0s to 40m00s)" in text
    ticket = row(text, "activation_sla")
    assert "TCK-00042" in ticket and "open" in ticket and "high" in ticket
    assert "activation SLA 11-24 11:02:00" in text
    assert "footer here" in text


def test_needs_attention_shows_the_decision_asked_for_and_the_stages_still_ahead() -> None:
    status = make_status(
        stage=Stage.NEEDS_ATTENTION,
        change_kinds=["capability"],
        stages=records(
            (Stage.AWAITING_PAYMENT, 0, 1),
            (Stage.RECONCILING, 1, 2),
            (Stage.UPDATING_BILLING, 2, 3),
            (Stage.ALLOCATING_RESOURCES, 3, None),
            (Stage.NEEDS_ATTENTION, 4, None),
        ),
        regions=[],
        attention=Attention(
            reason=EscalationReason.CAPACITY_REFUSED,
            detail="no capacity for ai.conversational_multimodal in eu-west",
            since=at(4),
            allowed=("approve", "retry", "reject"),
        ),
        eta=Eta(earliest=None, latest=None, basis="waiting for an operator decision"),
    )
    status = status.model_copy(
        update={
            "stages": [
                *status.stages[:3],
                status.stages[3].model_copy(
                    update={"attempts": 1, "last_error": "no capacity in eu-west"}
                ),
                status.stages[4],
            ]
        }
    )
    text = text_of(status)
    allocating = row(text, "allocating_resources")
    assert "interrupted" in allocating and "no capacity in eu-west" in allocating
    assert allocating.split("│")[6].strip() == "1"
    assert "waiting for operator" in row(text, "needs_attention")
    assert "starter.py resolve ORD-7 --action {approve, retry, reject}" in text
    assert "capacity_refused since 11-24 09:04:00" in text
    assert "ETA none now" in text and "waiting for an operator decision" in text
    for ahead in ("propagating", "activating", "notifying", "active"):
        assert "pending" in row(text, ahead)
    assert "regions" not in text


def test_a_cancelled_run_lists_its_compensations_and_nothing_ahead() -> None:
    status = make_status(
        stage=Stage.CANCELLED,
        reason="the customer changed their mind",
        finished_at=at(40),
        stages=records(
            (Stage.AWAITING_PAYMENT, 0, 2),
            (Stage.RECONCILING, 2, 3),
            (Stage.UPDATING_BILLING, 3, 5),
            (Stage.PROPAGATING, 5, 30),
            (Stage.COMPENSATING, 30, 40),
            (Stage.CANCELLED, 40, 40),
        ),
        regions=[
            RegionProgress(region=r, state="rolled_back", pushes=1, applied_at=None)
            for r in REGIONS
        ],
        escalated=False,
        escalations=[],
        eta=Eta(earliest=None, latest=None, basis="will not activate: cancelled"),
        compensations=[
            CompensationRecord(step="rollback_config", outcome="done", at=at(31)),
            CompensationRecord(step="revert_billing_plan", outcome="done", at=at(32)),
            CompensationRecord(
                step="refund_payment", outcome="done", at=at(33), detail="600.00 CNY"
            ),
        ],
    )
    text = text_of(status)
    assert "stage cancelled: the customer changed their mind" in text
    assert "interrupted" in row(text, "propagating")  # left for compensation, not completed
    assert "done" in row(text, "compensating") and "reached" in row(text, "cancelled")
    assert "pending" not in text
    assert "0/8 applied" in text and "rolled_back" in row(text, "eu-west")
    steps = [row(text, s) for s in ("rollback_config", "revert_billing_plan", "refund_payment")]
    assert all("done" in line for line in steps) and "600.00 CNY" in steps[2]
    assert follow_view.final_line(status) == (
        "ORD-7 ended cancelled at 2026-11-24 09:40:00 UTC: the customer changed their mind"
    )


def test_a_retried_stage_reads_interrupted_then_resolved_then_running() -> None:
    status = make_status(
        stage=Stage.RECONCILING,
        regions=[],
        escalations=[],
        escalated=False,
        stages=records(
            (Stage.AWAITING_PAYMENT, 0, 1),
            (Stage.RECONCILING, 1, None),
            (Stage.NEEDS_ATTENTION, 1, None),
            (Stage.RECONCILING, 9, None),
        ),
    )
    states = [follow_view.record_state(status, i) for i in range(len(status.stages))]
    assert states == ["done", "interrupted", "resolved", "running"]
    assert follow_view.pending_stages(status)[0] is Stage.UPDATING_BILLING


def test_the_change_key_ignores_the_clock_but_not_progress() -> None:
    status = make_status()
    later = status.model_copy(
        update={
            "updated_at": at(155),
            "eta": status.eta.model_copy(update={"earliest": at(155), "latest": at(195)}),
        }
    )
    assert follow_view.change_key(later) == follow_view.change_key(status)
    regions = list(status.regions)
    regions[5] = regions[5].model_copy(update={"state": "applied", "applied_at": at(156)})
    assert follow_view.change_key(status.model_copy(update={"regions": regions})) != (
        follow_view.change_key(status)
    )
    closed = [status.escalations[0].model_copy(update={"closed_at": at(160)})]
    assert follow_view.change_key(status.model_copy(update={"escalations": closed})) != (
        follow_view.change_key(status)
    )


def test_the_plain_line_says_stage_regions_eta_and_open_tickets() -> None:
    line = follow_view.status_line(make_status())
    assert line.startswith("2026-11-24 11:30:00 ORD-7 propagating ")
    assert "regions=5/8 applied" in line and "re-pushed=eu-west,us-east,us-west" in line
    assert "eta=11-24 11:30:00..11-24 12:10:00" in line
    assert "escalations=activation_sla:TCK-00042" in line
    assert "\n" not in line


def test_spans_read_like_people_write_them() -> None:
    assert [
        follow_view.span(timedelta(seconds=s)) for s in (-3, 42, 185, 7620, 3 * 86_400 + 4 * 3600)
    ] == ["0s", "42s", "3m05s", "2h07m", "3d04h"]
