"""The channel's money as the audit sees it (sandbox admin, not part of the platform): each
transaction's capture, the order that claimed it and its refunds.

Boundary: a read over the payment tables; the rules that fill them are `sandbox.systems.payments`
and `sandbox.systems.orders`, the judgement is `audit.money`.
"""

from decimal import Decimal

from domain.models import PaymentStatus, amount_text
from sandbox.schemas import HeldRefundOut, MoneyOut
from sandbox.systems.call import Call
from sandbox.systems.payments import view


def money(call: Call) -> list[MoneyOut]:
    """Sandbox admin: every transaction's capture, claim and refunds (the audit's money facts)."""
    out: list[MoneyOut] = []
    for row in call.tx.all("SELECT * FROM transactions ORDER BY created_at, transaction_id"):
        seen = view(call, row)
        claim = call.tx.one(
            "SELECT order_id, account_id FROM claims WHERE transaction_id = ?",
            row["transaction_id"],
        )
        refunds = call.tx.all(
            "SELECT * FROM payment_refunds WHERE transaction_id = ? ORDER BY refunded_at",
            row["transaction_id"],
        )
        succeeded = seen.status is PaymentStatus.SUCCEEDED
        out.append(
            MoneyOut(
                transaction_id=seen.transaction_id,
                order_id=seen.order_id,
                method=row["method"],
                status=seen.status,
                captured=seen.amount if succeeded else amount_text(Decimal(0)),
                amount=seen.amount,
                currency=seen.currency,
                claimed_by=claim["order_id"] if claim else None,
                account_id=claim["account_id"] if claim else None,
                refunds=[
                    HeldRefundOut(
                        refund_id=r["refund_id"],
                        order_id=r["order_id"],
                        custody=r["custody"],
                        amount=r["amount"],
                        reason=r["reason"],
                    )
                    for r in refunds
                ],
            )
        )
    return out
