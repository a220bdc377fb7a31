"""Compensation, and the `compensating` side stage: undo what the run did, newest first, refund
when money was taken, tell the customer, and finish in the stage the run ends in.

Runs on every exit of the forward path that is not activation: a payment failure or expiry, an
operator `reject`, a `cancel` update or a cancellation through Temporal (then shielded from
further cancellation by the workflow). Each forward step registers its undo, paired with it in
`domain.steps.COMPENSATION`, before it runs: a step that timed out may still have taken effect.
Every undo is must-complete.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import PaymentActivities
    from domain import steps
    from domain.models import PaymentStatus
    from domain.stages import Stage
    from domain.status import CompensationRecord

from workflows import metrics
from workflows.calls import must_complete
from workflows.ending import finish
from workflows.exits import SagaEnd
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
    paid = state.payment.status == PaymentStatus.SUCCEEDED
    compensating = bool(state.undo) or (end.refund and paid)
    if compensating:
        enter(state, STAGE)
    for step, undo in reversed(state.undo):
        _record(state, step, await undo())
    state.undo.clear()
    if end.refund and state.payment.status == PaymentStatus.SUCCEEDED:
        order = state.order
        result = await must_complete(
            state,
            PaymentActivities.refund_payment,
            steps.RefundInput(
                order_id=order.order_id,
                idempotency_key=state.key("refund_payment"),
                transaction_id=order.transaction_id,
                payment_method=order.payment_method,
                amount=state.paid_amount,
                currency=state.paid_currency,
                reason=end.reason,
            ),
            summary=f"refund {state.paid_amount} {state.paid_currency}",
        )
        _record(state, steps.Activity.REFUND_PAYMENT.value, result)
    outcome = _OUTCOME[end.stage]
    await notify(state, outcome, f"Your upgrade {state.order.summary} {end.stage}: {end.reason}")
    await finish(state, end.stage, end.reason)
    if compensating:
        metrics.record_compensated(end.stage)


_OUTCOME: dict[Stage, steps.Outcome] = {
    Stage.FAILED: "failed",
    Stage.CANCELLED: "cancelled",
    Stage.EXPIRED: "expired",
}


def _record(state: RunState, step: str, result: steps.CompensationResult) -> None:
    outcome = "done" if result.applied else "nothing_to_undo"
    state.compensations.append(
        CompensationRecord(step=step, outcome=outcome, at=workflow.now(), detail=result.detail)
    )
    publish(state)
