"""Payment channel activities: poll a transaction's status, refund it (the compensation of a
paid order that will not be activated). A refund by an order that does not own the transaction
is refused by the channel (`RefundRefused`, non-retryable); one beyond what is left is capped."""

from typing import TYPE_CHECKING

from temporalio import activity

from activities.contract import RefundAnswer, parse, path
from activities.waiting import recheck_until
from domain.models import PaymentStatus, amount_text
from domain.steps import (
    Activity,
    CompensationResult,
    PaymentStatusInput,
    PaymentStatusResult,
    RefundInput,
)

if TYPE_CHECKING:
    from activities.http import PlatformClient


class PaymentActivities:
    def __init__(self, client: "PlatformClient") -> None:
        self._platform = client

    @activity.defn(name=Activity.CONFIRM_PAYMENT_STATUS)
    async def confirm_payment_status(self, inp: PaymentStatusInput) -> PaymentStatusResult:
        """The channel's word on the payment; only `succeeded` counts as paid (not "processing").

        The order's method and amount go along because the channel creates a transaction it has
        never seen from them; the answer carries what the channel says was paid, which
        reconciliation compares with the order.
        """
        route = path("/v1/payments/transactions/{}", inp.transaction_id)
        query = {
            "order_id": inp.order_id,
            "method": inp.payment_method.value,
            "amount": amount_text(inp.amount),
            "currency": inp.currency,
        }

        async def read() -> PaymentStatusResult:
            return parse(PaymentStatusResult, await self._platform.get(route, query), route)

        result = await recheck_until(
            read, lambda r: r.status is not PaymentStatus.PENDING, inp.wait_s
        )
        activity.logger.debug("order %s: payment is %s", inp.order_id, result.status.value)
        return result

    @activity.defn(name=Activity.REFUND_PAYMENT)
    async def refund_payment(self, inp: RefundInput) -> CompensationResult:
        route = path("/v1/payments/transactions/{}/refunds", inp.transaction_id)
        data = await self._platform.post(
            route,
            {
                "order_id": inp.order_id,
                "amount": amount_text(inp.amount),
                "currency": inp.currency,
                "reason": inp.reason,
            },
            inp.idempotency_key,
        )
        refund = parse(RefundAnswer, data, route)
        if refund.status == "not_charged":
            activity.logger.info("order %s: nothing to refund (never charged)", inp.order_id)
            return CompensationResult(applied=False, detail="the channel never charged it")
        if refund.status == "already_refunded":
            activity.logger.info("order %s: nothing left to refund", inp.order_id)
            return CompensationResult(
                applied=False, detail="earlier refunds already gave back all the channel took"
            )
        activity.logger.info("order %s: refunded %s", inp.order_id, refund.amount)
        return CompensationResult(
            applied=True, detail=f"refund {refund.refund_id} of {refund.amount} {inp.currency}"
        )
