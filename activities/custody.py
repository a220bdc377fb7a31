"""Activities of a held payment's custody: read the channel's claim on the transaction, refund it
(as the custody, which the channel refuses once an order has claimed it), open and close the
custody's ticket.

Boundary: platform calls only; what custody decides from the answers is `workflows.custody`.
"""

from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio import activity

from activities.contract import RefundAnswer, parse, path
from domain.custody import (
    TICKET_REASON,
    ClaimInput,
    ClaimResult,
    CloseCustodyTicketInput,
    CustodyActivity,
    CustodyTicketInput,
    HeldRefundInput,
    HeldRefundResult,
)
from domain.models import amount_text
from domain.status import Severity

if TYPE_CHECKING:
    from activities.http import PlatformClient


class _Ticket(BaseModel):
    ticket_id: str


class CustodyActivities:
    def __init__(self, client: "PlatformClient") -> None:
        self._platform = client

    @activity.defn(name=CustodyActivity.READ_TRANSACTION_CLAIM)
    async def read_transaction_claim(self, inp: ClaimInput) -> ClaimResult:
        """The transaction's status and claim; the channel records it on first sight, from the
        payment custody holds (as it does for an order's first poll)."""
        route = path("/v1/payments/transactions/{}", inp.transaction_id)
        query = {
            "order_id": inp.order_id,
            "method": inp.channel.value,
            "amount": amount_text(inp.amount),
            "currency": inp.currency,
        }
        return parse(ClaimResult, await self._platform.get(route, query), route)

    @activity.defn(name=CustodyActivity.REFUND_HELD_PAYMENT)
    async def refund_held_payment(self, inp: HeldRefundInput) -> HeldRefundResult:
        """Refund as the custody: `RefundRefused` (final) once an order has claimed it."""
        route = path("/v1/payments/transactions/{}/refunds", inp.transaction_id)
        data = await self._platform.post(
            route,
            {
                "order_id": inp.order_id,
                "amount": amount_text(inp.amount),
                "currency": inp.currency,
                "reason": inp.reason,
                "custody": inp.custody_id,
            },
            inp.idempotency_key,
        )
        refund = parse(RefundAnswer, data, route)
        activity.logger.warning(
            "%s: held payment %s (%s %s)", inp.custody_id, refund.status, refund.amount,
            inp.currency,
        )  # fmt: skip
        return HeldRefundResult(
            status=refund.status, refund_id=refund.refund_id, amount=refund.amount
        )

    @activity.defn(name=CustodyActivity.OPEN_CUSTODY_TICKET)
    async def open_custody_ticket(self, inp: CustodyTicketInput) -> str:
        route = "/v1/tickets"
        data = await self._platform.post(
            route,
            {
                "order_id": inp.custody_id,
                "reason": TICKET_REASON,
                "severity": Severity.NORMAL.value,
                "diagnosis": {"summary": inp.summary, **inp.diagnosis},
            },
            inp.idempotency_key,
        )
        ticket = parse(_Ticket, data, route)
        activity.logger.warning("%s: ticket %s", inp.custody_id, ticket.ticket_id)
        return ticket.ticket_id

    @activity.defn(name=CustodyActivity.CLOSE_CUSTODY_TICKET)
    async def close_custody_ticket(self, inp: CloseCustodyTicketInput) -> None:
        route = path("/v1/tickets/{}/close", inp.ticket_id)
        await self._platform.post(
            route,
            {"order_id": inp.custody_id, "resolution": inp.resolution},
            inp.idempotency_key,
        )
