"""The `follow` view on statuses shaped like the saga's: what an operator reads, row by row."""

import io
from datetime import datetime, timedelta

from rich.console import Console

from cli import follow_view
from domain import progress
from domain.stages import Stage
from domain.status import (
    UpgradeStatus,
)
from tests.support.statuses import (
    at,
    cancelled_status,
    make_status,
    needs_attention_status,
    records,
)


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
    status = needs_attention_status()
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
    status = cancelled_status()
    text = text_of(status)
    assert "stage cancelled: the customer changed their mind" in text
    assert "interrupted" in row(text, "propagating")  # left for compensation, not completed
    assert "done" in row(text, "compensating") and "reached" in row(text, "cancelled")
    assert "pending" not in text
    # The region records keep the state they reached; the rollback compensation is said beside.
    assert "0/8 applied, then all rolled back at 11-24 09:31:00" in text
    assert "pushed" in row(text, "eu-west")
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
    states = [progress.record_state(status, i) for i in range(len(status.stages))]
    assert states == ["done", "interrupted", "resolved", "running"]
    assert progress.pending_stages(status)[0] is Stage.UPDATING_BILLING


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
        progress.span(timedelta(seconds=s)) for s in (-3, 42, 185, 7620, 3 * 86_400 + 4 * 3600)
    ] == ["0s", "42s", "3m05s", "2h07m", "3d04h"]
