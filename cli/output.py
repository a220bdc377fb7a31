"""What the CLI prints: JSON for machines, rich text for people, one line on stderr for a failure.

Also the `status` view (`starter.py status`, `start --wait`): the status model as a few lines and
tables. Times are the workflow's, in UTC, spelled by `domain.moments`.
"""

import json
import sys
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from rich.text import Text

from domain.moments import shown
from domain.status import UpgradeStatus

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        # Piped output (a script, a log) gets room for full ids instead of the 80-column default.
        self.console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)

    def json(self, value: Any) -> None:
        print(json.dumps(value, indent=2, default=str, ensure_ascii=False))

    def model(self, value: BaseModel) -> None:
        print(value.model_dump_json(indent=2))


def fail(message: str, code: int) -> int:
    # One line, whatever the input held (a line separator inside a value or a field name).
    print(f"starter.py: {' '.join(message.splitlines())}", file=sys.stderr)
    return code


def print_status(out: Output, status: UpgradeStatus) -> None:
    if out.as_json:
        out.model(status)
        return
    c = out.console
    c.print(f"[bold]{status.summary}[/bold]  ({status.workflow_id})")
    c.print(
        f"stage: [bold]{status.stage}[/bold]" + (f" — {status.reason}" if status.reason else "")
    )
    if status.payment.channel_reference:
        c.print(f"channel trade number: {status.payment.channel_reference}")
    if status.payment_reference:
        c.print(f"payment reference (transfer memo): [bold]{status.payment_reference}[/bold]")
    eta = status.eta
    c.print(
        f"eta: {shown(eta.earliest, with_date=True)} … {shown(eta.latest, with_date=True)} UTC  "
        f"({eta.basis})"
    )
    if eta.late:
        c.print(Text(eta.late, style="red"))
    if status.attention:
        c.print(
            f"[yellow]needs attention[/yellow]: {status.attention.reason}: "
            f"{status.attention.detail}"
            + (f" (attention_id {status.attention.id})" if status.attention.id else "")
        )
    table = Table("stage", "started", "ended", "attempts", "last error")
    for r in status.stages:
        table.add_row(
            str(r.stage),
            shown(r.started_at, with_date=True),
            shown(r.ended_at, with_date=True),
            str(r.attempts),
            r.last_error or "",
        )
    c.print(table)
    if status.regions:
        regions = Table("region", "state", "pushes")
        for p in status.regions:
            regions.add_row(p.region, p.state, str(p.pushes))
        c.print(regions)
    for e in status.escalations:
        closed = f", closed {shown(e.closed_at, with_date=True)}" if e.closed_at else ", open"
        c.print(f"[red]escalation[/red] {e.reason} ({e.severity}): ticket {e.ticket_id}{closed}")
    for comp in status.compensations:
        c.print(f"compensation {comp.step}: {comp.outcome}")
