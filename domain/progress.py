"""How each stage of a run stands, read from its `UpgradeStatus`: shared by every operator view.

Pure functions of the status model (no clock, no I/O), so the workflow's Web UI details and the
`starter.py follow` terminal view say the same thing about the same run.
"""

from datetime import datetime, timedelta

from domain.stages import FORWARD_STAGES, Stage
from domain.status import UpgradeStatus
from domain.steps import Activity

# What `record_state` can answer.
DONE, RUNNING, WAITING, INTERRUPTED, RESOLVED, REACHED = (
    "done",
    "running",
    "waiting for operator",
    "interrupted",
    "resolved",
    "reached",
)


def record_state(status: UpgradeStatus, index: int) -> str:
    """How the stage of `status.stages[index]` stands, read from the record that follows it.

    The workflow closes a record when the stage completes, but also when the stage is left for
    compensation; and a stage left for `needs_attention` stays open while a new record of the same
    stage starts after the decision. So "done" means the run went forward from it.
    """
    record = status.stages[index]
    if index == len(status.stages) - 1:
        if record.stage.is_terminal:
            return REACHED
        return WAITING if record.stage is Stage.NEEDS_ATTENTION else RUNNING
    following = status.stages[index + 1].stage
    if record.stage is Stage.NEEDS_ATTENTION:
        return RESOLVED if following is not Stage.COMPENSATING else INTERRUPTED
    if record.stage is Stage.COMPENSATING and following.is_terminal:
        return DONE
    if record.stage in FORWARD_STAGES and following in FORWARD_STAGES:
        ahead = FORWARD_STAGES.index(following) > FORWARD_STAGES.index(record.stage)
        return DONE if ahead else INTERRUPTED
    return INTERRUPTED


def pending_stages(status: UpgradeStatus) -> list[Stage]:
    """The forward stages this run has not entered yet (none once it ends or unwinds)."""
    if status.stage.is_terminal or status.stage is Stage.COMPENSATING:
        return []
    seen = [r.stage for r in status.stages if r.stage in FORWARD_STAGES]
    last = FORWARD_STAGES.index(seen[-1]) if seen else -1
    ahead = list(FORWARD_STAGES[last + 1 :])
    if "capability" not in status.change_kinds:
        ahead = [s for s in ahead if s is not Stage.ALLOCATING_RESOURCES]
    return ahead


def regions_applied(status: UpgradeStatus) -> int:
    """How many regions have applied the new config."""
    return sum(1 for r in status.regions if r.state == "applied")


def rolled_back_at(status: UpgradeStatus) -> datetime | None:
    """When the rollback compensation restored every region's previous config, if it did.

    The region records keep the state they had reached before it, so a view says this beside them.
    """
    rollback = next((c for c in status.compensations if c.step == Activity.ROLLBACK_CONFIG), None)
    return rollback.at if rollback is not None and rollback.outcome == "done" else None


def span(delta: timedelta) -> str:
    """A duration for people: `42s`, `3m05s`, `2h07m`, `3d04h`."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86_400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86_400}d{seconds % 86_400 // 3600:02d}h"
