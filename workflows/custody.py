"""The `payment-custody` workflow: one per held transaction (`payment-{channel}-{transaction_id}`),
the durable home of a captured payment that could not be applied where it arrived.

Started by the ingress with update-with-start (`hold`) before the channel is answered, so an
acknowledged payment always has a record. Then:

1. opens one `payment_held` ticket (an operator sees the money at once, with why it is held);
2. looks for a claim on the transaction every `check_every` (one hour of policy time) until
   `grace` has passed (25 h, the channels' re-delivery span): a claim is an order's
   reconciliation taking the transaction, i.e. an order applies it, and custody ends `applied`;
3. otherwise refunds it as the custody. The channel refuses that refund if an order claimed the
   transaction meanwhile (claim and custody refund exclude each other on the platform), and then
   custody ends `applied` too; a refund the channel has nothing to give back for ends
   `not_charged`. A refund that fails is retried (a platform outage, a contract error: noted in
   the status, ticket still open) until it is done;
4. closes the ticket with what happened.

Re-deliveries (`hold` again) are recorded once each and answered with the current state. The
`status` query (and the result) is `CustodyStatus`; the `CustodyState` search attribute follows
the state. Orchestration only: every side effect is an activity of `activities.custody`.
"""

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.custody import CustodyActivities
    from domain.custody import (
        WORKFLOW_NAME,
        ClaimInput,
        ClaimResult,
        CloseCustodyTicketInput,
        CustodyInput,
        CustodyRefund,
        CustodyState,
        CustodyStatus,
        CustodyTicketInput,
        HeldPayment,
        HeldReason,
        HeldRefundInput,
        HoldAck,
        custody_id,
    )
    from domain.errors import ErrorType
    from domain.models import PaymentStatus

from workflows import search_attributes as sa
from workflows.policies import CALL_TIMEOUT, MUST_COMPLETE_RETRY, POLL_RETRY, scaled_retry

__all__ = ["WORKFLOW_NAME", "PaymentCustody", "start_attributes"]

_REFUND_RETRY_NON_RETRYABLE = [ErrorType.REFUND_REFUSED.value, ErrorType.PLATFORM_CONTRACT.value]


def start_attributes(inp: CustodyInput) -> TypedSearchAttributes:
    """The search attributes a custody starts with (set by the client that starts it)."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(sa.CUSTODY_STATE, CustodyState.HOLDING.value),
            SearchAttributePair(sa.PAYMENT_METHOD, inp.channel.value),
        ]
    )


@workflow.defn(name=WORKFLOW_NAME)
class PaymentCustody:
    @workflow.init
    def __init__(self, input: CustodyInput) -> None:
        self._input = input
        self._id = custody_id(input.channel, input.transaction_id)
        self._deliveries: list[HeldPayment] = [input.first]
        self._state = CustodyState.HOLDING
        self._grace_until = workflow.now() + input.grace
        self._claimed_by: str | None = None
        # The order the channel says it was paid for: the refund's owner (the held notice's order
        # is only a placeholder when the channel's door could not name one: `unknown_trade`).
        self._paid_for: str | None = None
        self._refund: CustodyRefund | None = None
        self._ticket_id: str | None = None
        self._detail = f"held until {self._grace_until.isoformat()} for an order to claim it"
        self._captured = input.first.notice.amount
        self._poll_retry = scaled_retry(POLL_RETRY, input.time_scale)
        # Without limit, like every compensation; a refusal is final (the workflow decides).
        self._must_retry = replace(
            scaled_retry(MUST_COMPLETE_RETRY, input.time_scale),
            non_retryable_error_types=_REFUND_RETRY_NON_RETRYABLE,
        )

    @workflow.run
    async def run(self, input: CustodyInput) -> CustodyStatus:
        await self._open_ticket()
        while self._state is CustodyState.HOLDING:
            claim = await self._read_claim()
            if claim is not None and claim.claimed_by is not None:
                self._applied(claim.claimed_by)
                break
            if claim is not None and claim.order_id:
                self._paid_for = claim.order_id
            if claim is not None and claim.status is PaymentStatus.SUCCEEDED and claim.amount:
                # The channel's word on what it took is what custody gives back.
                self._captured = claim.amount
            left = self._grace_until - workflow.now()
            if left <= timedelta(0):
                await self._refund_or_learn_the_claim()
                break
            await workflow.sleep(min(input.check_every, left), summary="look for a claim")
        await self._close_ticket()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    @workflow.query(name="status")
    def status(self) -> CustodyStatus:
        first = self._input.first.notice
        reasons = list(dict.fromkeys(held.reason for held in self._deliveries))
        return CustodyStatus(
            custody_id=self._id,
            channel=self._input.channel,
            transaction_id=first.transaction_id,
            order_id=self._order_id(),
            amount=first.amount,
            currency=first.currency,
            state=self._state,
            reasons=reasons,
            deliveries=len(self._deliveries),
            received_at=self._input.received_at,
            grace_until=self._grace_until,
            claimed_by=self._claimed_by,
            refund=self._refund,
            ticket_id=self._ticket_id,
            detail=self._detail,
        )

    @workflow.update(name="hold")
    def hold(self, held: HeldPayment) -> HoldAck:
        """One (re-)delivery of the payment: recorded once; answered with the current state."""
        if held in self._deliveries:
            result = "duplicate"
        else:
            self._deliveries.append(held)
            result = "accepted"
        return HoldAck(result=result, custody_id=self._id, state=self._state, detail=self._detail)

    @hold.validator
    def _validate_hold(self, held: HeldPayment) -> None:
        if held.notice.transaction_id != self._input.transaction_id:
            raise ApplicationError(
                f"transaction_id: {held.notice.transaction_id} is not the transaction this "
                f"custody holds ({self._input.transaction_id})",
                "transaction_id",
                type="InvalidMessage",
                non_retryable=True,
            )

    def _order_id(self) -> str:
        """The held notice's order, or, when it named none, the one the channel was paid for."""
        first = self._input.first
        if first.reason is HeldReason.UNKNOWN_TRADE and self._paid_for is not None:
            return self._paid_for
        return first.notice.order_id

    # Steps -------------------------------------------------------------------------------------
    def _set_state(self, state: CustodyState, detail: str) -> None:
        self._state = state
        self._detail = detail
        workflow.upsert_search_attributes([sa.CUSTODY_STATE.value_set(state.value)])

    def _applied(self, order_id: str) -> None:
        self._claimed_by = order_id
        self._set_state(
            CustodyState.APPLIED,
            f"claimed by order {order_id}: its upgrade applies the payment (or refunds it)",
        )

    async def _read_claim(self) -> ClaimResult | None:
        notice = self._input.first.notice
        try:
            claim = await workflow.execute_activity_method(
                CustodyActivities.read_transaction_claim,
                ClaimInput(
                    transaction_id=notice.transaction_id,
                    order_id=notice.order_id,
                    channel=self._input.channel,
                    amount=notice.amount,
                    currency=notice.currency,
                ),
                start_to_close_timeout=CALL_TIMEOUT,
                retry_policy=self._poll_retry,
                summary="read the transaction's claim",
            )
        except ActivityError as err:
            # A failed look is a look that saw nothing: the next one comes anyway.
            self._detail = f"last look for a claim failed: {err.cause or err}"
            return None
        return claim

    async def _refund_or_learn_the_claim(self) -> None:
        notice = self._input.first.notice
        reasons = ", ".join(dict.fromkeys(held.reason.value for held in self._deliveries))
        while True:
            try:
                result = await workflow.execute_activity_method(
                    CustodyActivities.refund_held_payment,
                    HeldRefundInput(
                        custody_id=self._id,
                        idempotency_key=f"{self._id}:refund",
                        order_id=self._paid_for or notice.order_id,
                        transaction_id=notice.transaction_id,
                        amount=self._captured,
                        currency=notice.currency,
                        reason=f"held payment not claimed within the grace period ({reasons})",
                    ),
                    start_to_close_timeout=CALL_TIMEOUT,
                    retry_policy=self._must_retry,
                    summary=f"refund {self._captured} {notice.currency}",
                )
            except ActivityError as err:
                cause = err.cause
                if isinstance(cause, ApplicationError) and cause.type == ErrorType.REFUND_REFUSED:
                    claim = await self._read_claim()
                    if claim is not None and claim.claimed_by is not None:
                        self._applied(claim.claimed_by)
                        return
                # Refused for another reason, or a contract error: keep the money held, say so
                # (the ticket is open) and try again after a while.
                self._detail = f"refund not possible yet: {cause or err}"
                await workflow.sleep(self._input.check_every, summary="retry the refund")
                continue
            if result.status == "refunded":
                self._refund = CustodyRefund(
                    refund_id=result.refund_id, amount=result.amount, currency=notice.currency
                )
                self._set_state(
                    CustodyState.REFUNDED,
                    f"refunded {result.amount} {notice.currency} ({result.refund_id}): no order "
                    "claimed it within the grace period",
                )
            else:
                self._set_state(
                    CustodyState.NOT_CHARGED,
                    "nothing to refund: the channel never took the money"
                    if result.status == "not_charged"
                    else "nothing left to refund: earlier refunds gave it all back",
                )
            return

    async def _open_ticket(self) -> None:
        notice = self._input.first.notice
        held = self._input.first
        try:
            self._ticket_id = await workflow.execute_activity_method(
                CustodyActivities.open_custody_ticket,
                CustodyTicketInput(
                    custody_id=self._id,
                    idempotency_key=f"{self._id}:ticket",
                    summary=(
                        f"{notice.amount} {notice.currency} paid via {self._input.channel.value} "
                        f"(transaction {notice.transaction_id}, {self._whose()}) could not "
                        f"be applied: {held.reason.value}. Refunded automatically at "
                        f"{self._grace_until.isoformat()} unless an order claims it."
                    ),
                    diagnosis={
                        "reason": held.reason.value,
                        "detail": held.detail,
                        "order_id": notice.order_id,
                        "transaction_id": notice.transaction_id,
                        "grace_until": self._grace_until.isoformat(),
                    },
                ),
                start_to_close_timeout=CALL_TIMEOUT,
                retry_policy=self._must_retry,
                summary="open the payment_held ticket",
            )
        except ActivityError as err:
            # Only a broken ticket contract ends up here (outages are retried without limit):
            # the money matters more than the ticket, custody goes on and says so.
            self._detail = f"{self._detail}; no ticket: {err.cause or err}"

    def _whose(self) -> str:
        if self._input.first.reason is HeldReason.UNKNOWN_TRADE:
            return "no upgrade was started with it: find its order in the backend"
        return f"order {self._input.first.notice.order_id}"

    async def _close_ticket(self) -> None:
        if self._ticket_id is None:
            return
        try:
            await workflow.execute_activity_method(
                CustodyActivities.close_custody_ticket,
                CloseCustodyTicketInput(
                    custody_id=self._id,
                    idempotency_key=f"{self._id}:close-ticket",
                    ticket_id=self._ticket_id,
                    resolution=f"{self._state.value}: {self._detail}",
                ),
                start_to_close_timeout=CALL_TIMEOUT,
                retry_policy=self._must_retry,
                summary="close the payment_held ticket",
            )
        except ActivityError as err:
            self._detail = (
                f"{self._detail}; ticket {self._ticket_id} not closed: {err.cause or err}"
            )
