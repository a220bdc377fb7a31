"""What `starter.py follow` shows: an `UpgradeStatus` turned into a terminal view or one line.

Role: pure functions from the status model to rich renderables (the live view on a terminal), to
one plain line (the view without a terminal, one line per change), and to the change key that
decides when something worth a new line or a new JSON record happened. No I/O, no Temporal: the
polling loop lives in `cli.follow`, so everything here is unit-tested on statuses built by hand.

Times are shown in UTC (the workflow's clock), as in `starter.py status` and the Web UI details.
"""

from collections.abc import Hashable
from datetime import datetime

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from domain.moments import shown
from domain.progress import (
    pending_stages,
    record_state,
    regions_applied,
    rolled_back_at,
    span,
)
from domain.stages import Stage
from domain.status import UpgradeStatus

_STAGE_STYLE = {
    Stage.ACTIVE: "bold green",
    Stage.FAILED: "bold red",
    Stage.CANCELLED: "bold yellow",
    Stage.EXPIRED: "bold red",
    Stage.NEEDS_ATTENTION: "bold magenta",
    Stage.COMPENSATING: "bold yellow",
}
_STATE_STYLE = {
    "done": "green",
    "running": "bold cyan",
    "waiting for operator": "bold magenta",
    "interrupted": "yellow",
    "resolved": "green",
    "pending": "dim",
    "reached": "bold",
}
_REGION_STYLE = {"applied": "green", "pushed": "cyan", "pending": "dim", "rolled_back": "yellow"}


def _took(status: UpgradeStatus, index: int, now: datetime) -> str:
    record = status.stages[index]
    if record.stage.is_terminal:
        return ""
    end = record.ended_at
    if end is None and index + 1 < len(status.stages):
        end = status.stages[index + 1].started_at  # left open when the run moved on
    return span((end or now) - record.started_at)


def stage_table(status: UpgradeStatus, now: datetime) -> Table:
    table = Table(title="stages", title_justify="left", expand=False)
    for column in ("stage", "state", "started", "ended", "took", "attempts"):
        table.add_column(column, no_wrap=True)
    table.add_column("last error", overflow="fold", max_width=70)
    for index, record in enumerate(status.stages):
        state = record_state(status, index)
        table.add_row(
            Text(str(record.stage), style=_STAGE_STYLE.get(record.stage, "")),
            Text(state, style=_STATE_STYLE.get(state, "")),
            shown(record.started_at),
            shown(record.ended_at) if not record.stage.is_terminal else "",
            _took(status, index, now),
            str(record.attempts) if record.attempts else "",
            Text(record.last_error or "", style="red"),
        )
    for stage in pending_stages(status):
        table.add_row(Text(str(stage), style="dim"), Text("pending", style="dim"), *[""] * 5)
    return table


def regions_view(status: UpgradeStatus) -> RenderableType:
    applied = regions_applied(status)
    total = len(status.regions)
    header = Table.grid(padding=(0, 1))
    summary = Text(f"{applied}/{total} applied")
    rolled_back = rolled_back_at(status)
    if rolled_back is not None:
        summary.append(f", then all rolled back at {shown(rolled_back)}", style="yellow")
    header.add_row(
        Text("regions", style="bold"),
        ProgressBar(total=total, completed=applied, width=32),
        summary,
    )
    table = Table(expand=False, show_edge=False)
    for column in ("region", "state", "pushes", "applied at"):
        table.add_column(column, no_wrap=True)
    for region in status.regions:
        table.add_row(
            region.region,
            Text(region.state, style=_REGION_STYLE.get(region.state, "")),
            str(region.pushes),
            shown(region.applied_at),
        )
    return Group(header, table)


def eta_text(status: UpgradeStatus, now: datetime) -> Text:
    eta = status.eta
    text = Text("ETA ", style="bold")
    if eta.earliest is None or eta.latest is None:
        text.append("none now", style="yellow")
    elif status.stage is Stage.ACTIVE:
        text.append(f"activated at {shown(eta.latest, with_date=True)} UTC", style="green")
    else:
        text.append(f"{shown(eta.earliest, with_date=True)} … {shown(eta.latest)} UTC")
        text.append(f"  (in {span(eta.earliest - now)} to {span(eta.latest - now)})", style="dim")
    text.append(f"\nbasis: {eta.basis}", style="dim")
    if eta.late:
        text.append(f"\n{eta.late}", style="red")
    return text


def header_text(status: UpgradeStatus) -> Text:
    text = Text()
    text.append(status.summary, style="bold")
    text.append(f"  {status.workflow_id}", style="dim")
    text.append("\nstage ")
    text.append(str(status.stage), style=_STAGE_STYLE.get(status.stage, "bold cyan"))
    if status.reason:
        text.append(f": {status.reason}")
    if status.cancel_requested:
        text.append(f"  (cancel requested: {status.cancel_requested})", style="yellow")
    payment = status.payment
    text.append(f"\npayment {payment.status}")
    if payment.via:
        text.append(f" via {payment.via}")
    if payment.confirmed_at:
        text.append(f" at {shown(payment.confirmed_at)}")
    elif payment.deadline:
        text.append(f", deadline {shown(payment.deadline)}, polled {payment.polls}x")
    if status.activation_deadline:
        text.append(f"; activation SLA {shown(status.activation_deadline)}")
    return text


def attention_text(status: UpgradeStatus) -> Text | None:
    attention = status.attention
    if attention is None:
        return None
    text = Text("needs attention ", style="bold magenta")
    text.append(f"{attention.reason} since {shown(attention.since)}: {attention.detail}")
    actions = ", ".join(attention.allowed)
    bound = f" --attention-id {attention.id}" if attention.id else ""
    text.append(
        f"\n  answer with: starter.py resolve {status.order_id} --action {{{actions}}}{bound}",
        style="magenta",
    )
    return text


def escalations_table(status: UpgradeStatus) -> Table:
    table = Table(title="escalations", title_justify="left")
    for column in ("reason", "severity", "in stage", "ticket", "opened", "closed"):
        table.add_column(column, no_wrap=True)
    for e in status.escalations:
        table.add_row(
            Text(str(e.reason), style="red" if e.closed_at is None else ""),
            str(e.severity),
            str(e.stage),
            e.ticket_id,
            shown(e.opened_at),
            shown(e.closed_at) if e.closed_at else Text("open", style="red"),
        )
    return table


def compensations_table(status: UpgradeStatus) -> Table:
    table = Table(title="compensations (newest step first)", title_justify="left")
    for column in ("step", "outcome", "at"):
        table.add_column(column, no_wrap=True)
    table.add_column("detail", overflow="fold", max_width=60)
    for c in status.compensations:
        table.add_row(c.step, c.outcome, shown(c.at), c.detail)
    return table


def render(status: UpgradeStatus, now: datetime, footer: str = "") -> Group:
    """The whole live view: header, ETA, attention, stages, regions, escalations, compensations."""
    parts: list[RenderableType] = [header_text(status), eta_text(status, now)]
    attention = attention_text(status)
    if attention is not None:
        parts.append(attention)
    parts.append(stage_table(status, now))
    if status.regions:
        parts.append(regions_view(status))
    if status.escalations:
        parts.append(escalations_table(status))
    if status.compensations:
        parts.append(compensations_table(status))
    if footer:
        parts.append(Text(footer, style="dim"))
    return Group(*parts)


def change_key(status: UpgradeStatus) -> Hashable:
    """What counts as a change worth reporting: not the clock, not the ETA drifting with it."""
    current = status.stages[-1] if status.stages else None
    return (
        status.stage,
        status.reason,
        status.cancel_requested,
        status.payment.status,
        len(status.stages),
        (current.attempts, current.last_error) if current else None,
        tuple((r.region, r.state, r.pushes) for r in status.regions),
        tuple((e.reason, e.ticket_id, e.closed_at is None) for e in status.escalations),
        tuple(c.step for c in status.compensations),
        status.attention.reason if status.attention else None,
        # Becoming late, or losing the estimate, is news; the ETA drifting with the clock is not.
        (status.eta.overdue_s is not None, status.eta.latest is None),
    )


def status_line(status: UpgradeStatus) -> str:
    """One line per change when there is no terminal to redraw (`follow` piped or logged)."""
    parts = [shown(status.updated_at, with_date=True), status.order_id, str(status.stage)]
    current = status.stages[-1] if status.stages else None
    if current is not None and current.attempts:
        parts.append(f"attempts={current.attempts}")
    if current is not None and current.last_error:
        parts.append(f"last_error={current.last_error!r}")
    if status.payment.status != "succeeded":
        parts.append(f"payment={status.payment.status}")
    if status.regions:
        parts.append(f"regions={regions_applied(status)}/{len(status.regions)} applied")
        lagging = [r.region for r in status.regions if r.state == "pushed" and r.pushes > 1]
        if lagging:
            parts.append(f"re-pushed={','.join(lagging)}")
    eta = status.eta
    if eta.earliest is not None and eta.latest is not None and not status.stage.is_terminal:
        parts.append(f"eta={shown(eta.earliest)}..{shown(eta.latest)}")
    if eta.late and not status.stage.is_terminal:
        parts.append(f"late={eta.late!r}")
    if status.attention:
        parts.append(f"needs_attention={status.attention.reason}")
    open_tickets = [f"{e.reason}:{e.ticket_id}" for e in status.escalations if e.closed_at is None]
    if open_tickets:
        parts.append(f"escalations={','.join(open_tickets)}")
    if status.compensations:
        parts.append(f"compensated={','.join(c.step for c in status.compensations)}")
    if status.cancel_requested:
        parts.append("cancel_requested")
    if status.reason and status.stage.is_terminal:
        parts.append(f"reason={status.reason!r}")
    return " ".join(parts)


def final_line(status: UpgradeStatus) -> str:
    ended = f" at {shown(status.finished_at, with_date=True)} UTC" if status.finished_at else ""
    reason = f": {status.reason}" if status.reason else ""
    return f"{status.order_id} ended {status.stage}{ended}{reason}"
