"""Operator decisions, and the `needs_attention` side stage where a run waits for one.

A refusal a person must decide (`ReconciliationMismatch`, `CapacityRefused`) parks the run in
`needs_attention` with a ticket; the `resolve` update then says `approve` (go on as if the step had
succeeded), `retry` (run the stage again) or `reject` (unwind and refund). While escalated past the
activation SLA, a stage that polls (allocating, propagating) also takes `retry` or `reject`.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.errors import NEEDS_ATTENTION_ERRORS, ErrorType
    from domain.models import Resolution, ResolutionAction
    from domain.stages import Stage
    from domain.status import Attention, EscalationReason

from workflows.calls import check_cancel, wait
from workflows.escalation import escalate
from workflows.exits import Refusal, rejected
from workflows.state import RunState
from workflows.visibility import enter, publish

STAGE = Stage.NEEDS_ATTENTION


async def decided(state: RunState, attempt: Callable[[], Awaitable[None]]) -> None:
    """Run `attempt`; on a refusal a person must decide, park in needs_attention and obey."""
    while True:
        try:
            await attempt()
            return
        except Refusal as refusal:
            if refusal.error_type not in NEEDS_ATTENTION_ERRORS:
                raise
            decision = await _needs_attention(state, refusal)
        if decision.action is ResolutionAction.APPROVE:
            return
        if decision.action is ResolutionAction.REJECT:
            raise rejected(decision)
        # retry: loop and run the stage again


async def _needs_attention(state: RunState, refusal: Refusal) -> Resolution:
    resumed = state.stage
    reason = (
        EscalationReason.CAPACITY_REFUSED
        if refusal.error_type == ErrorType.CAPACITY_REFUSED
        else EscalationReason.RECONCILIATION_MISMATCH
    )
    state.note_error(refusal.message)
    enter(state, STAGE)
    state.attention = Attention(
        reason=reason,
        detail=refusal.message,
        since=workflow.now(),
        allowed=tuple(a.value for a in ResolutionAction),
    )
    publish(state)
    await escalate(state, reason, resumed_stage=resumed)
    await workflow.wait_condition(
        lambda: state.resolution is not None or state.cancel is not None,
        timeout_summary="wait for an operator decision",
    )
    check_cancel(state)
    decision = take_resolution(state)
    assert decision is not None
    state.attention = None
    enter(state, resumed)
    return decision


def take_resolution(state: RunState) -> Resolution | None:
    decision, state.resolution = state.resolution, None
    if decision is not None:
        workflow.logger.info("operator decision %s: %s", decision.action, decision.note or "")
    return decision


async def wait_for_decision(state: RunState, within: timedelta, summary: str) -> None:
    """Wait `within` on a durable timer, or less if an operator decides meanwhile."""
    await wait(state, lambda: state.resolution is not None, within, summary)
