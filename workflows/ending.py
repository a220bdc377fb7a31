"""How a run ends, whatever the way: close its tickets, record the final stage, publish it, and,
for an activation, count it in the business metrics.

The terminal stages (`active`, `failed`, `cancelled`, `expired`) have no work of their own.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.stages import Stage
    from domain.status import StageRecord

from workflows import metrics
from workflows.escalation import close_tickets
from workflows.lease import release_account
from workflows.state import RunState
from workflows.visibility import publish


async def finish(state: RunState, stage: Stage, reason: str) -> None:
    state.end_stage()
    # Active, or fully compensated: the next order of the account may go.
    await release_account(state, f"{stage}: {reason}")
    await close_tickets(state, f"upgrade ended {stage}: {reason}")
    state.stage = stage
    state.reason = reason
    state.finished_at = workflow.now()
    state.resolution = None
    state.stages.append(
        StageRecord(stage=stage, started_at=state.finished_at, ended_at=state.finished_at)
    )
    publish(state)
    workflow.logger.info("upgrade %s: %s", stage, reason)


def record_activated(state: RunState) -> None:
    confirmed, finished = state.payment.confirmed_at, state.finished_at
    if confirmed is None or finished is None:
        return
    metrics.record_activated(
        state.order.payment_method,
        (str(k) for k in state.input.change_kinds),
        finished - confirmed,
        state.policy.time_scale,
    )
