"""`starter.py follow ORDER_ID`: poll a run's `status` query until the run reaches a terminal stage.

Role: the polling loop and the three ways of showing what it reads: a live view redrawn in place
on a terminal (rich.live), one plain line per change when there is no terminal, one JSON status
per change (NDJSON) for machines. Each poll describes the run first, so a run that closes without
reaching a terminal stage (terminated or timed out by hand) ends the follow instead of hanging it;
a completed run's final status is read from its result, which needs no worker.

Boundary: client-side reading only; it never sends the run a message. Rendering is
`cli.follow_view`; argument parsing and exit codes are `starter.py`'s.
"""

import asyncio
import sys
import time
from datetime import UTC, datetime
from typing import Protocol, TextIO

from rich.console import Console
from rich.live import Live
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from cli import follow_view
from client.upgrades import UpgradeNotFound
from domain.models import workflow_id_for
from domain.moments import clock
from domain.status import UpgradeStatus
from workflows.upgrade import UpgradeActivation

DEFAULT_INTERVAL_S = 1.0
# After the first good read, how long Temporal may be unreachable before `follow` gives up.
UNREACHABLE_PATIENCE_S = 30.0
_TRANSIENT = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}


class RunClosed(Exception):
    """The run closed (terminated, timed out, failed) without reaching a terminal stage."""

    def __init__(self, order_id: str, how: str, stage: str | None) -> None:
        where = f" in stage {stage}" if stage else ""
        super().__init__(f"the run of order {order_id!r} closed as {how}{where}, unfinished")


async def read_status(client: Client, order_id: str) -> UpgradeStatus:
    """The run's status now: the live query while it runs, its result once it has completed."""
    handle = client.get_workflow_handle_for(UpgradeActivation.run, workflow_id_for(order_id))
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise UpgradeNotFound(order_id) from err
        raise
    state = description.status
    if state == WorkflowExecutionStatus.COMPLETED:
        return await handle.result()
    if state == WorkflowExecutionStatus.RUNNING:
        return await handle.query(UpgradeActivation.status)
    # Cancelled through Temporal (the saga unwinds, then ends CANCELED), or closed by hand: the
    # query replays the history on a worker and says where the run stopped.
    how = state.name if state else "unknown"
    try:
        status = await handle.query(UpgradeActivation.status)
    except (RPCError, WorkflowQueryFailedError):
        raise RunClosed(order_id, how, None) from None
    if not status.stage.is_terminal:
        raise RunClosed(order_id, how, str(status.stage))
    return status


class Sink(Protocol):
    def show(self, status: UpgradeStatus) -> None: ...

    def finish(self, status: UpgradeStatus) -> None: ...


class LiveSink:
    """Redraws the whole view in place on a terminal."""

    def __init__(self, console: Console, interval_s: float) -> None:
        self.console = console
        self.interval_s = interval_s
        self.live = Live(console=console, auto_refresh=False, transient=False)

    def __enter__(self) -> "LiveSink":
        self.live.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.live.stop()

    def show(self, status: UpgradeStatus) -> None:
        now = datetime.now(UTC)
        footer = (
            f"read {clock(now)} UTC, every {self.interval_s:g}s · "
            "Ctrl-C stops following (the upgrade goes on)"
        )
        self.live.update(follow_view.render(status, now, footer), refresh=True)

    def finish(self, status: UpgradeStatus) -> None:
        self.live.update(follow_view.render(status, datetime.now(UTC)), refresh=True)
        self.live.stop()
        self.console.print(follow_view.final_line(status), style="bold", highlight=False)


class LineSink:
    """One line per change, for a pipe or a log file (nothing is redrawn)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.last: object = None

    def __enter__(self) -> "LineSink":
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def show(self, status: UpgradeStatus) -> None:
        key = follow_view.change_key(status)
        if key != self.last:
            self.last = key
            print(follow_view.status_line(status), file=self.out, flush=True)

    def finish(self, status: UpgradeStatus) -> None:
        self.show(status)
        print(follow_view.final_line(status), file=self.out, flush=True)


class JsonSink(LineSink):
    """One JSON status per change (NDJSON); the last record is the terminal status."""

    def show(self, status: UpgradeStatus) -> None:
        key = follow_view.change_key(status)
        if key != self.last:
            self.last = key
            print(status.model_dump_json(), file=self.out, flush=True)

    def finish(self, status: UpgradeStatus) -> None:
        self.show(status)


async def follow(
    client: Client, order_id: str, sink: Sink, interval_s: float = DEFAULT_INTERVAL_S
) -> UpgradeStatus:
    """Show the run's status on every poll until its stage is terminal; return that status.

    Raises `UpgradeNotFound` (no such order), `RunClosed`, or the RPC error of a Temporal that
    stays unreachable past UNREACHABLE_PATIENCE_S (at once if it never answered).
    """
    failing_since: float | None = None
    seen_once = False
    while True:
        try:
            status = await read_status(client, order_id)
        except RPCError as err:
            if not seen_once or err.status not in _TRANSIENT:
                raise
            failing_since = failing_since or time.monotonic()
            if time.monotonic() - failing_since > UNREACHABLE_PATIENCE_S:
                raise
            await asyncio.sleep(interval_s)
            continue
        failing_since, seen_once = None, True
        if status.stage.is_terminal:
            sink.finish(status)
            return status
        sink.show(status)
        await asyncio.sleep(interval_s)


def pick_sink(as_json: bool, console: Console, interval_s: float) -> LiveSink | LineSink:
    """NDJSON with `--json`; the live view on a terminal; otherwise one line per change."""
    if as_json:
        return JsonSink(sys.stdout)
    if console.is_terminal:
        return LiveSink(console, interval_s)
    return LineSink(sys.stdout)
