"""Compensation, and the `compensating` side stage: undo what the run did, newest first, refund
when money was taken, tell the customer, and finish in the stage the run ends in.

Runs on every exit of the forward path that is not activation: a payment failure or expiry, an
operator `reject`, a `cancel` update or a cancellation through Temporal (then shielded from
further cancellation by the workflow). Each forward step registers its undo, paired with it in
`domain.steps.COMPENSATION`, before it runs: a step that timed out may still have taken effect.
Every undo is must-complete.

Never wedged (patch `compensation-never-wedges`, `workflows.patches`): an undo refused for good
(a non-retryable contract error) is recorded `refused` and escalates `compensation_stuck`; one
still failing after `policies.COMPENSATION_STUCK_AFTER` is recorded `stuck`, escalates, and keeps
retrying in its own task while the later undos and the refund run; the run ends once it finished.
"""

import asyncio
from collections.abc import Mapping
from types import MappingProxyType

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities import PaymentActivities
    from domain import steps
    from domain.models import PaymentStatus
    from domain.stages import Stage
    from domain.status import CompensationRecord, EscalationReason

from workflows import metrics
from workflows.calls import must_complete
from workflows.ending import finish
from workflows.escalation import escalate
from workflows.exits import SagaEnd
from workflows.stages.awaiting_payment import read_once_more
from workflows.stages.notifying import notify
from workflows.state import RunState, Undo
from workflows.visibility import enter, publish

STAGE = Stage.COMPENSATING


def register(state: RunState, forward: steps.Activity, undo: Undo) -> None:
    """Register the undo of `forward` (named after its compensation) before `forward` runs."""
    state.undo.append((steps.COMPENSATION[forward].value, undo))


async def unwind(state: RunState, end: SagaEnd) -> None:
    """Undo what was done, newest first; refund when money was taken; tell the customer."""
    state.end_stage()
    # From here on a payment notice is refused as "ended" (`messages`): the ingress hands it to
    # the custody path; this run refunds only what it has recorded.
    state.ending = end
    if (
        state.safety.unpaid_reads_channel_once_more
        and not state.payment_settled()
        and end.stage in (Stage.CANCELLED, Stage.EXPIRED)
    ):
        await read_once_more(state)
    paid = state.payment.status == PaymentStatus.SUCCEEDED
    if state.safety.succeeded_after_failed_refunded:
        # Every payment captured is refunded when the run does not activate; one the run would
        # not have refunded (its end says no refund) gets a ticket as its record.
        captured = paid or state.payment.succeeded_after_failed
        refund_due, unapplied = captured, captured and not end.refund
    else:
        refund_due, unapplied = end.refund and paid, False
    compensating = bool(state.undo) or refund_due
    if compensating:
        enter(state, STAGE)
    guarded = state.safety.compensation_never_wedges
    lingering: list[asyncio.Task[None]] = []
    for step, undo in reversed(state.undo):
        if guarded:
            await _undo_guarded(state, step, undo, lingering)
        else:
            _record(state, step, await undo())
    state.undo.clear()
    if unapplied:
        await escalate(state, EscalationReason.UNAPPLIED_PAYMENT)
    if state.safety.succeeded_after_failed_refunded:
        refunding = refund_due
    else:  # runs started before the patch read the status again here
        refunding = end.refund and state.payment.status == PaymentStatus.SUCCEEDED
    if refunding:
        if guarded:
            await _undo_guarded(state, steps.Activity.REFUND_PAYMENT.value, _refund(state, end), [])
        else:
            _record(state, steps.Activity.REFUND_PAYMENT.value, await _refund(state, end)())
    # An undo past its bound retried on meanwhile: the run ends once it has finished.
    if lingering:
        await workflow.wait_condition(lambda: all(task.done() for task in lingering))
    outcome = _OUTCOME[end.stage]
    await notify(state, outcome, f"Your upgrade {state.order.summary} {end.stage}: {end.reason}")
    await finish(state, end.stage, end.reason)
    if compensating:
        metrics.record_compensated(end.stage)


def _refund(state: RunState, end: SagaEnd) -> Undo:
    async def refund() -> steps.CompensationResult:
        order = state.order
        amount = state.paid_amount - state.refunded  # a surplus refunded earlier is not again
        return await must_complete(
            state,
            PaymentActivities.refund_payment,
            steps.RefundInput(
                order_id=order.order_id,
                idempotency_key=state.key("refund_payment"),
                transaction_id=order.transaction_id,
                payment_method=order.payment_method,
                amount=amount,
                currency=state.paid_currency,
                reason=end.reason,
            ),
            summary=f"refund {amount} {state.paid_currency}",
        )

    return refund


async def _undo_guarded(
    state: RunState, step: str, undo: Undo, lingering: list[asyncio.Task[None]]
) -> None:
    """Run one undo without letting it wedge the unwinding: wait for it up to the bound; past
    it, escalate and leave it retrying in `lingering` (the refund is awaited to the end)."""
    task = asyncio.create_task(_undo_or_refused(state, step, undo))
    try:
        await workflow.wait_condition(
            task.done, timeout=state.stuck_after, timeout_summary=f"{step}: stuck after"
        )
    except TimeoutError:
        message = f"{step} still failing after {state.stuck_after}: retrying on"
        state.note_error(message)
        _record_outcome(state, step, "stuck", message)
        await escalate(state, EscalationReason.COMPENSATION_STUCK)
        if step == steps.Activity.REFUND_PAYMENT.value:
            await task  # the money: nothing else waits behind it, the run waits for it
        else:
            lingering.append(task)
        return
    await task


async def _undo_or_refused(state: RunState, step: str, undo: Undo) -> None:
    try:
        result = await undo()
    except ActivityError as err:
        # Refused for good (a contract error: retrying cannot help). Recorded, escalated, and the
        # unwinding goes on: a person undoes this step by hand (the ticket stays open).
        message = f"{step} refused for good: {err.cause or err}"
        state.note_error(message)
        state.refused.append(step)
        _record_outcome(state, step, "refused", message)
        await escalate(state, EscalationReason.COMPENSATION_STUCK)
        return
    _record(state, step, result)


_OUTCOME: Mapping[Stage, steps.Outcome] = MappingProxyType(
    {Stage.FAILED: "failed", Stage.CANCELLED: "cancelled", Stage.EXPIRED: "expired"}
)


def _record(state: RunState, step: str, result: steps.CompensationResult) -> None:
    _record_outcome(state, step, "done" if result.applied else "nothing_to_undo", result.detail)


def _record_outcome(state: RunState, step: str, outcome: str, detail: str) -> None:
    state.compensations.append(
        CompensationRecord.model_validate(
            {"step": step, "outcome": outcome, "at": workflow.now(), "detail": detail[:500]}
        )
    )
    publish(state)
