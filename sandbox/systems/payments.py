"""The payment channel: transaction status (created on first sight, settled after the method's
delay, scenario tokens applied), manual-review approval, refunds (once per transaction)."""

import sqlite3
from decimal import Decimal

from domain.effects import Effect
from domain.models import PaymentMethod, PaymentStatus, amount_text
from sandbox import notifier, scenarios
from sandbox.errors import NotFound, Unprocessable
from sandbox.schemas import ApprovalOut, RefundIn, RefundOut, TransactionOut
from sandbox.store import from_iso, to_iso
from sandbox.systems.call import Call, digest


def _row(call: Call, transaction_id: str) -> sqlite3.Row | None:
    return call.tx.one("SELECT * FROM transactions WHERE transaction_id = ?", transaction_id)


def _stored(call: Call, transaction_id: str) -> sqlite3.Row:
    row = _row(call, transaction_id)
    if row is None:
        raise RuntimeError(f"transaction {transaction_id!r} vanished inside its own transaction")
    return row


def _view(call: Call, row: sqlite3.Row) -> TransactionOut:
    status = scenarios.payment_status(
        row["transaction_id"],
        PaymentMethod(row["method"]),
        from_iso(row["created_at"]),
        call.now,
        approved=row["approved_at"] is not None,
        time_scale=call.time_scale,
    )
    if (
        status is PaymentStatus.SUCCEEDED
        and row["method"] in call.held_channels
        and notifier.held(call.tx, row["transaction_id"])
    ):
        status = PaymentStatus.PENDING  # the channel's notification goes first
    amount = scenarios.reported_amount(row["transaction_id"], Decimal(row["amount"]))
    return TransactionOut(
        transaction_id=row["transaction_id"],
        order_id=row["order_id"],
        status=status,
        amount=amount_text(amount),
        currency=row["currency"],
    )


def _new_transaction_needs(transaction_id: str, field: str) -> Unprocessable:
    return Unprocessable(
        f"transaction {transaction_id!r} is new to the channel: {field} is required", field=field
    )


def confirm_payment_status(
    call: Call,
    transaction_id: str,
    *,
    order_id: str | None,
    method: PaymentMethod | None,
    amount: Decimal | None,
    currency: str | None,
) -> TransactionOut:
    """The channel's view of a transaction; created on first sight from the caller's order data.

    A known transaction keeps what it was created with: the channel reports what was paid, and
    comparing that with the order is the caller's job (reconciliation).
    """
    row = _row(call, transaction_id)
    if row is None:
        if order_id is None:
            raise _new_transaction_needs(transaction_id, "order_id")
        if method is None:
            raise _new_transaction_needs(transaction_id, "method")
        if amount is None:
            raise _new_transaction_needs(transaction_id, "amount")
        call.tx.insert(
            "transactions",
            {
                "transaction_id": transaction_id,
                "order_id": order_id,
                "method": method.value,
                "amount": amount_text(amount),
                "currency": currency or "CNY",
                "created_at": to_iso(call.now),
            },
        )
        row = _stored(call, transaction_id)
    return _view(call, row)


def approve_review(call: Call, transaction_id: str) -> ApprovalOut:
    """Sandbox admin: end the manual review of a `pay-review` transaction (it then succeeds)."""
    row = _row(call, transaction_id)
    if row is None:
        raise NotFound(f"unknown transaction {transaction_id!r}", field="transaction_id")
    if not scenarios.has_token(transaction_id, scenarios.Token.PAY_REVIEW):
        raise Unprocessable(
            f"transaction {transaction_id!r} does not go to manual review "
            f"(only ids with the {scenarios.Token.PAY_REVIEW.value!r} token do)",
            field="transaction_id",
            type="NotUnderReview",
        )
    # Approving before the review even started is allowed: the payment then simply succeeds.
    if row["approved_at"] is None:
        call.tx.execute(
            "UPDATE transactions SET approved_at = ? WHERE transaction_id = ?",
            to_iso(call.now),
            transaction_id,
        )
        row = _stored(call, transaction_id)
    return ApprovalOut(transaction_id=transaction_id, status=_view(call, row).status)


def refund_payment(call: Call, transaction_id: str, body: RefundIn) -> RefundOut:
    existing = call.tx.one("SELECT * FROM refunds WHERE transaction_id = ?", transaction_id)
    if existing is not None:
        # Money comes back once per transaction, whatever key the caller uses.
        return RefundOut(
            refund_id=existing["refund_id"], status="refunded", amount=existing["amount"]
        )
    row = _row(call, transaction_id)
    if row is not None and _view(call, row).status is PaymentStatus.FAILED:
        return RefundOut(refund_id=None, status="not_charged", amount=amount_text(Decimal(0)))
    # A transaction the channel never saw polled was still paid (the payment notification came
    # the other way, pushed): the sandbox refunds it like any other.
    refund_id = f"rf-{digest(transaction_id)}"
    amount = amount_text(body.amount)
    call.tx.insert(
        "refunds",
        {
            "transaction_id": transaction_id,
            "refund_id": refund_id,
            "order_id": body.order_id,
            "amount": amount,
            "currency": body.currency,
            "reason": body.reason,
            "refunded_at": to_iso(call.now),
        },
    )
    call.effect(
        Effect.REFUND_PAYMENT,
        body.order_id,
        transaction_id=transaction_id,
        refund_id=refund_id,
        amount=amount,
        currency=body.currency,
    )
    return RefundOut(refund_id=refund_id, status="refunded", amount=amount)
