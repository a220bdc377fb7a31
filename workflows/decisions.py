"""Operator decisions, and the `needs_attention` side stage where a run waits for one.

A refusal a person must decide (`ReconciliationMismatch`, `CapacityRefused`) parks the run in
`needs_attention` with a ticket; the `resolve` update then says `approve` (go on as if the step had
succeeded), `retry` (run the stage again) or `reject` (unwind and refund). While escalated past the
activation SLA, a stage that polls (allocating, propagating) also takes `retry` or `reject`.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.errors import NEEDS_ATTENTION_ERRORS, ErrorType
    from domain.models import MessageAck, Resolution, ResolutionAction
    from domain.stages import Stage
    from domain.status import Attention, EscalationReason

from workflows.calls import check_cancel, wait
from workflows.escalation import escalate
from workflows.exits import Refusal, rejected
from workflows.messages import INVALID_MESSAGE
from workflows.state import RunState
from workflows.visibility import enter, publish

STAGE = Stage.NEEDS_ATTENTION


async def decided(
    state: RunState,
    attempt: Callable[[], Awaitable[None]],
    *,
    overriding: "Overriding | None" = None,
) -> None:
    """Run `attempt`; on a refusal a person must decide, park in needs_attention and obey.

    With `overriding`, `approve` overrides only the check that refused: offered only when
    `overriding.can` that check, recorded by `overriding.override`, and the attempt runs again,
    every other check with it."""
    while True:
        try:
            await attempt()
            return
        except Refusal as refused:
            if refused.error_type not in NEEDS_ATTENTION_ERRORS:
                raise
            refusal = refused
            can_approve = overriding is None or overriding.can(refusal)
            decision = await _needs_attention(state, refusal, can_approve=can_approve)
        if decision.action is ResolutionAction.APPROVE:
            if overriding is not None:
                overriding.override(refusal)
                continue  # the approved check is overridden now; the others run again
            return
        if decision.action is ResolutionAction.REJECT:
            raise rejected(decision)
        # retry: loop and run the stage again


if TYPE_CHECKING:  # for mypy only: a Protocol class costs memory in every sandboxed run

    class Overriding(Protocol):
        """What an `approve` may override, and how it is recorded (`reconciling`)."""

        def can(self, refusal: Refusal) -> bool: ...

        def override(self, refusal: Refusal) -> None: ...


async def _needs_attention(
    state: RunState, refusal: Refusal, *, can_approve: bool = True
) -> Resolution:
    resumed = state.stage
    reason = (
        EscalationReason.CAPACITY_REFUSED
        if refusal.error_type == ErrorType.CAPACITY_REFUSED
        else EscalationReason.RECONCILIATION_MISMATCH
    )
    state.note_error(refusal.message)
    enter(state, STAGE)
    state.attentions += 1
    state.attention = Attention(
        reason=reason,
        detail=refusal.message,
        since=workflow.now(),
        allowed=tuple(
            a.value for a in ResolutionAction if can_approve or a is not ResolutionAction.APPROVE
        ),
        id=f"{reason}-{state.attentions}",
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
        if decision.attention_id is not None:
            state.decided[decision.attention_id] = decision
    return decision


async def receive(state: RunState, resolution: Resolution) -> MessageAck:
    """The `resolve` update (validated by `messages`): bind the decision to the problem waiting
    now, hand it to the saga, and answer once the saga took it; a repeat of a decision taken (or
    being taken) is a `duplicate`; a decision the run ended without taking is refused (a cancel
    won the race), never `accepted`."""
    named = resolution.attention_id
    if named is not None and (
        named in state.decided
        or (state.resolution is not None and state.resolution.attention_id == named)
    ):
        await workflow.wait_condition(lambda: named in state.decided or state.stage.is_terminal)
        return MessageAck(result="duplicate", stage=state.stage, detail=f"{named}: already taken")
    bound = resolution.model_copy(update={"attention_id": named or state.attention_id()})
    state.resolution = bound
    await workflow.wait_condition(lambda: state.resolution is not bound or state.stage.is_terminal)
    if bound.attention_id is not None:
        taken = state.decided.get(bound.attention_id) is bound
    else:
        taken = state.resolution is not bound and not state.stage.is_terminal
    if not taken:
        if state.resolution is bound:
            state.resolution = None
        why = f"the upgrade ended {state.stage}" if state.stage.is_terminal else "it was dropped"
        raise ApplicationError(
            f"action: the decision was not applied: {why} ({state.reason or 'no reason'}) "
            "before the run took it",
            "action",
            type=INVALID_MESSAGE,
            non_retryable=True,
        )
    return MessageAck(result="accepted", stage=state.stage, detail=str(bound.action))


async def wait_for_decision(state: RunState, within: timedelta, summary: str) -> None:
    """Wait `within` on a durable timer, or less if an operator decides meanwhile."""
    await wait(state, lambda: state.resolution is not None, within, summary)
