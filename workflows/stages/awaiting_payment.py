"""Stage `awaiting_payment`: wait for the payment channel to confirm the payment, by polling it on
durable timers (backing off per payment method) or through the `confirm_payment` update (a pushed
notification), whichever comes first.

- activities: `confirm_payment_status` polled with durable timers, or the `confirm_payment`
  update; whichever first
- compensation: none
- timeout / retry: each poll: 30 s, 3 tries, then the next poll
- non-retryable errors: — (a failed payment ends the run `failed`)

Past the payment deadline a `payment_overdue` ticket is opened (manual review extends the deadline
instead); past the hard expiry the run ends `expired`. Days of polling continue as new runs,
carrying what this one learned (`PaymentCarry`). A confirmed payment starts the activation SLA.
"""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities import PaymentActivities
    from domain import steps
    from domain.models import MessageAck, PaymentNotice, PaymentStatus
    from domain.stages import Stage
    from domain.status import EscalationReason
    from domain.upgrade_input import PaymentCarry

from workflows.alarms import Alarm
from workflows.calls import inline, interruptible, must_complete, wait
from workflows.escalation import escalate, start_activation_sla
from workflows.exits import SagaEnd
from workflows.state import RunState

STAGE = Stage.AWAITING_PAYMENT


async def run(state: RunState) -> None:
    if state.payment.deadline is None:
        state.payment = state.payment.model_copy(
            update={
                "deadline": state.started_at + state.policy.payment_deadline,
                "expires_at": state.started_at + state.policy.payment_expiry,
            }
        )
    if state.clock_free:
        _arm(state)
    method = state.order.payment_method
    while True:
        if state.payment.status == PaymentStatus.SUCCEEDED:
            _disarm(state)
            state.end_stage()
            start_activation_sla(state)
            return
        if state.payment.status == PaymentStatus.FAILED:
            _disarm(state)
            raise SagaEnd(
                Stage.FAILED, f"the {method} channel reported the payment failed", refund=False
            )
        expired, overdue = _deadlines_reached(state)
        if expired:
            _disarm(state)
            raise SagaEnd(
                Stage.EXPIRED,
                f"no confirmed payment within {state.policy.payment_expiry} (hard expiry)",
                refund=False,
            )
        if overdue:
            if state.under_review:
                _extend_deadline_for_review(state)
            elif EscalationReason.PAYMENT_OVERDUE not in state.ticketed():
                await escalate(state, EscalationReason.PAYMENT_OVERDUE)
        if state.clock_free:
            await _poll_then_wait(state)
        else:
            await _poll_then_wait_by_the_clock(state)


def _deadlines_reached(state: RunState) -> tuple[bool, bool]:
    """(expired, overdue): from the alarms, or (runs started before them) from the clock."""
    if state.clock_free:
        assert state.payment_expiry is not None and state.payment_deadline is not None
        return state.payment_expiry.rung, state.payment_deadline.rung
    now = workflow.now()
    assert state.payment.deadline is not None and state.payment.expires_at is not None
    return now >= state.payment.expires_at, now >= state.payment.deadline


async def _poll_then_wait(state: RunState) -> None:
    """One poll, then the policy's interval, ended early by a notice or an alarm."""
    rung = _alarms_rung(state)

    def woken() -> bool:
        return state.payment_settled() or _alarms_rung(state) != rung

    interval = state.policy.poll_interval(state.payment.polls)
    within = inline(interval)
    await _poll(state, within, until=woken)
    if state.payment_settled():
        return
    _maybe_continue_as_new(state)
    if not within and not woken():
        await wait(state, woken, interval, "next payment poll")


async def _poll_then_wait_by_the_clock(state: RunState) -> None:
    """The same for runs started before the alarms: the wait ends at the next deadline too."""
    assert state.payment.deadline is not None and state.payment.expires_at is not None
    now = workflow.now()
    wake = now + state.policy.poll_interval(state.payment.polls)
    if EscalationReason.PAYMENT_OVERDUE not in state.ticketed():
        wake = min(wake, state.payment.deadline)
    wake = min(wake, state.payment.expires_at)
    within = inline(wake - now)
    await _poll(state, within, until=state.payment_settled)
    if state.payment_settled():
        return
    _maybe_continue_as_new(state)
    if not within:
        await wait(state, state.payment_settled, wake - workflow.now(), "next payment poll")


def _arm(state: RunState) -> None:
    assert state.payment.deadline is not None and state.payment.expires_at is not None
    state.payment_deadline = Alarm(state.payment.deadline, "payment deadline (escalate)")
    state.payment_expiry = Alarm(state.payment.expires_at, "payment expiry (end the order)")


def _disarm(state: RunState) -> None:
    for alarm in (state.payment_deadline, state.payment_expiry):
        if alarm is not None:
            alarm.cancel()


def _alarms_rung(state: RunState) -> tuple[bool, bool]:
    alarms = (state.payment_deadline, state.payment_expiry)
    return (alarms[0] is not None and alarms[0].rung, alarms[1] is not None and alarms[1].rung)


def accept_notice(state: RunState, notice: PaymentNotice) -> MessageAck:
    """The `confirm_payment` update (validated by `messages`): record a notice once."""
    key = f"{notice.transaction_id}:{notice.status}"
    if (
        state.safety.succeeded_after_failed_refunded
        and state.payment.status == PaymentStatus.FAILED
        and notice.status is PaymentStatus.SUCCEEDED
        and key not in state.seen_notices
    ):
        # The channel took the money after saying it failed: the run still ends `failed` (the
        # saga has acted on the failure), but the money is recorded here and refunded on unwind.
        state.seen_notices.add(key)
        state.paid_amount, state.paid_currency = notice.amount, notice.currency
        state.payment = state.payment.model_copy(
            update={"notices": state.payment.notices + 1, "succeeded_after_failed": True}
        )
        return MessageAck(
            result="accepted", stage=state.stage, detail="payment succeeded after failed: refunded"
        )
    if state.payment_settled() or key in state.seen_notices:
        return MessageAck(result="duplicate", stage=state.stage, detail="already recorded")
    state.seen_notices.add(key)
    state.payment = state.payment.model_copy(update={"notices": state.payment.notices + 1})
    if notice.channel_reference and state.payment.channel_reference is None:
        # State only, no command: shown in status for people (the channel's trade number).
        update = {"channel_reference": notice.channel_reference}
        state.payment = state.payment.model_copy(update=update)
    _record_payment(state, notice.status, notice.amount, notice.currency, via="notification")
    return MessageAck(result="accepted", stage=state.stage, detail=f"payment {notice.status}")


def _record_payment(
    state: RunState,
    status: PaymentStatus,
    amount: Decimal | None,
    currency: str | None,
    via: str,
) -> None:
    if status is PaymentStatus.UNDER_REVIEW:
        if not state.under_review:
            state.under_review = True
            _extend_deadline_for_review(state)
        state.payment = state.payment.model_copy(update={"status": status.value})
        return
    if status in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
        update: dict[str, Any] = {"status": status.value, "via": via}
        if status is PaymentStatus.SUCCEEDED:
            update["confirmed_at"] = workflow.now()
            state.paid_amount = amount if amount is not None else state.order.amount
            state.paid_currency = currency or state.order.currency
        state.payment = state.payment.model_copy(update=update)


def _extend_deadline_for_review(state: RunState) -> None:
    # A payment under manual review extends the payment deadline instead of escalating.
    extended = workflow.now() + state.policy.review_extension
    if state.clock_free and state.payment_deadline is not None:
        # The deadline alarm rang, or the review came first: it rings again at the new deadline.
        # The comparison below would depend on the clock; the new alarm must not.
        state.payment_deadline.cancel()
        if state.payment.deadline is not None:
            extended = max(extended, state.payment.deadline)
        state.payment = state.payment.model_copy(update={"deadline": extended})
        state.payment_deadline = Alarm(extended, "payment deadline after review (escalate)")
        return
    if state.payment.deadline is None or extended > state.payment.deadline:
        state.payment = state.payment.model_copy(update={"deadline": extended})


async def _poll(state: RunState, within: timedelta, until: Callable[[], bool]) -> None:
    order = state.order
    state.payment = state.payment.model_copy(update={"polls": state.payment.polls + 1})

    def polled(result: steps.PaymentStatusResult) -> None:
        record_polled(state, result)

    try:
        result = await interruptible(
            state,
            PaymentActivities.confirm_payment_status,
            steps.PaymentStatusInput(
                order_id=order.order_id,
                transaction_id=order.transaction_id,
                payment_method=order.payment_method,
                amount=order.amount,
                currency=order.currency,
                wait_s=within.total_seconds(),
            ),
            summary=f"poll {order.payment_method} for the payment status",
            retry=state.poll_retry,
            # A pushed notification (or an alarm) ends the wait at once; the poll is abandoned.
            until=until,
            # A cancel that raced the poll: a payment it saw is recorded, and refunded on unwind.
            on_late=polled if state.safety.cancel_keeps_polled_payment else None,
        )
    except ActivityError as err:
        state.note_error(f"payment poll failed: {err.cause or err}")
        return
    if result is None:
        return
    polled(result)


def record_polled(state: RunState, result: steps.PaymentStatusResult) -> None:
    """Record what a poll of the channel saw, unless the payment is settled already."""
    if result.status is not PaymentStatus.PENDING and not state.payment_settled():
        _record_payment(state, result.status, result.amount, result.currency, via="polling")


async def read_once_more(state: RunState) -> None:
    """Before the run decides "unpaid": one more read of the channel, must-complete (a payment
    it finds is recorded, and the unwinding refunds it)."""
    order = state.order
    try:
        result = await must_complete(
            state,
            PaymentActivities.confirm_payment_status,
            steps.PaymentStatusInput(
                order_id=order.order_id,
                transaction_id=order.transaction_id,
                payment_method=order.payment_method,
                amount=order.amount,
                currency=order.currency,
                wait_s=0.0,
            ),
            summary=f"read {order.payment_method} once more before ending unpaid",
        )
    except ActivityError as err:  # refused for good: the custody path takes a later notice
        state.note_error(f"last payment read failed: {err.cause or err}")
        return
    record_polled(state, result)


def _maybe_continue_as_new(state: RunState) -> None:
    info = workflow.info()
    if not (
        info.is_continue_as_new_suggested()
        or info.get_current_history_length() >= state.input.history_limit
    ):
        return
    if not workflow.all_handlers_finished():
        return  # next time round: a continuation must not drop a running update
    carry = PaymentCarry(
        started_at=state.started_at,
        payment=state.payment,
        stages=state.stages,
        escalations=state.escalations,
        seen_notices=tuple(sorted(state.seen_notices)),
        under_review=state.under_review,
        continuations=state.continuations + 1,
    )
    workflow.continue_as_new(state.input.model_copy(update={"carry": carry}))
