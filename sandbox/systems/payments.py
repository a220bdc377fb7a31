"""The payment channel: transaction status (created on first sight, settled after the method's
delay, scenario tokens applied), manual-review approval, late settlement, and refunds.

Refunds belong to the order that owns the transaction: the order that claimed it in
reconciliation, or, unclaimed, the order the channel was paid for. Another order is refused
(`RefundRefused`, 409, final). Several refunds per transaction (partial ones), each idempotent on
its key; together they never exceed what the channel captured. A held payment's custody refunds
only while no order has claimed the transaction, and a transaction it refunded can no longer be
claimed (`sandbox.systems.orders`): claim and custody refund exclude each other atomically.
"""

import sqlite3
from decimal import Decimal

from domain.effects import Effect
from domain.errors import ErrorType
from domain.models import PaymentMethod, PaymentStatus, amount_text
from sandbox import notifier, scenarios
from sandbox.errors import BusinessRefusal, NotFound, Unprocessable
from sandbox.schemas import (
    ApprovalOut,
    RefundIn,
    RefundOut,
    SettleIn,
    TransactionOut,
)
from sandbox.store import from_iso, to_iso
from sandbox.systems.call import Call, digest


def _row(call: Call, transaction_id: str) -> sqlite3.Row | None:
    return call.tx.one("SELECT * FROM transactions WHERE transaction_id = ?", transaction_id)


def _stored(call: Call, transaction_id: str) -> sqlite3.Row:
    row = _row(call, transaction_id)
    if row is None:
        raise RuntimeError(f"transaction {transaction_id!r} vanished inside its own transaction")
    return row


def view(call: Call, row: sqlite3.Row) -> TransactionOut:
    if row["settled_at"] is not None:
        # Settled by hand (`python -m sandbox settle`): captured, whatever the scenario said.
        status = PaymentStatus.SUCCEEDED
        amount = Decimal(row["settled_amount"] or row["amount"])
    else:
        status = scenarios.payment_status(
            row["transaction_id"],
            PaymentMethod(row["method"]),
            from_iso(row["created_at"]),
            call.now,
            approved=row["approved_at"] is not None,
            time_scale=call.time_scale,
        )
        amount = scenarios.reported_amount(row["transaction_id"], Decimal(row["amount"]))
    claim = call.tx.one(
        "SELECT order_id FROM claims WHERE transaction_id = ?", row["transaction_id"]
    )
    if (
        row["settled_at"] is None
        and status is PaymentStatus.SUCCEEDED
        and row["method"] in call.held_channels
        and notifier.held(call.tx, row["transaction_id"])
    ):
        status = PaymentStatus.PENDING  # the channel's notification goes first
    return TransactionOut(
        transaction_id=row["transaction_id"],
        order_id=row["order_id"],
        status=status,
        amount=amount_text(amount),
        currency=row["currency"],
        claimed_by=claim["order_id"] if claim else None,
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
    return view(call, row)


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
    return ApprovalOut(transaction_id=transaction_id, status=view(call, row).status)


def settle(call: Call, transaction_id: str, body: SettleIn) -> TransactionOut:
    """Sandbox admin: the channel captures the transaction now (`body.amount`, or its amount).

    Stages what the scenarios cannot: a pending payment that succeeds late, a `succeeded` after
    a `failed`, and money the channel really holds for an order nobody started or for a second
    transaction of an order (created here, from `order_id` and `method`). Settling again with
    the same amount changes nothing; with another amount it is refused.
    """
    row = _row(call, transaction_id)
    if row is None:
        if body.order_id is None:
            raise _new_transaction_needs(transaction_id, "order_id")
        if body.method is None:
            raise _new_transaction_needs(transaction_id, "method")
        if body.amount is None:
            raise _new_transaction_needs(transaction_id, "amount")
        call.tx.insert(
            "transactions",
            {
                "transaction_id": transaction_id,
                "order_id": body.order_id,
                "method": body.method.value,
                "amount": amount_text(body.amount),
                "currency": body.currency or "CNY",
                "created_at": to_iso(call.now),
            },
        )
        row = _stored(call, transaction_id)
    elif body.order_id is not None and body.order_id != row["order_id"]:
        raise Unprocessable(
            f"transaction {transaction_id!r} was paid for order {row['order_id']}, "
            f"not {body.order_id}",
            field="order_id",
        )
    amount = amount_text(body.amount) if body.amount is not None else None
    if row["settled_at"] is not None:
        if amount is not None and amount != (row["settled_amount"] or row["amount"]):
            raise Unprocessable(
                f"transaction {transaction_id!r} was already settled with "
                f"{row['settled_amount'] or row['amount']}",
                field="amount",
                type="AlreadySettled",
            )
        return view(call, row)
    call.tx.execute(
        "UPDATE transactions SET settled_at = ?, settled_amount = ? WHERE transaction_id = ?",
        to_iso(call.now),
        amount,
        transaction_id,
    )
    return view(call, _stored(call, transaction_id))


def _refunded(call: Call, transaction_id: str) -> Decimal:
    rows = call.tx.all(
        "SELECT amount FROM payment_refunds WHERE transaction_id = ?", transaction_id
    )
    return sum((Decimal(r["amount"]) for r in rows), Decimal(0))


def _owner(call: Call, transaction_id: str, row: sqlite3.Row | None, body: RefundIn) -> str:
    """The order a refund of the transaction must come from; refuses anyone else."""
    claim = call.tx.one("SELECT order_id FROM claims WHERE transaction_id = ?", transaction_id)
    if claim is not None and body.custody is not None:
        raise BusinessRefusal(
            ErrorType.REFUND_REFUSED,
            f"transaction {transaction_id} was claimed by order {claim['order_id']}: "
            "it is applied, not refunded by custody",
            field="transaction_id",
        )
    if claim is not None:
        owner, how = str(claim["order_id"]), "claimed by"
    elif row is not None:
        owner, how = str(row["order_id"]), "paid for"
    else:
        # A transaction the channel never saw polled was still paid (the notification came the
        # other way, pushed): whoever refunds it first owns it.
        return body.order_id
    if owner != body.order_id:
        raise BusinessRefusal(
            ErrorType.REFUND_REFUSED,
            f"transaction {transaction_id} belongs to order {owner} ({how} it); "
            f"order {body.order_id} cannot refund it",
            field="order_id",
        )
    return owner


def refund_payment(call: Call, transaction_id: str, body: RefundIn) -> RefundOut:
    """Give back up to what the channel captured minus what earlier refunds gave back."""
    row = _row(call, transaction_id)
    owner = _owner(call, transaction_id, row, body)
    if row is not None and view(call, row).status is PaymentStatus.FAILED:
        return RefundOut(refund_id=None, status="not_charged", amount=amount_text(Decimal(0)))
    # A pending transaction counts as captured: a notification may have said it was paid before
    # the channel's own status caught up.
    captured = Decimal(view(call, row).amount) if row is not None else body.amount
    left = captured - _refunded(call, transaction_id)
    if left <= 0:
        return RefundOut(refund_id=None, status="already_refunded", amount=amount_text(Decimal(0)))
    given = min(body.amount, left)
    if call.key is None:
        raise RuntimeError("a refund needs the call's idempotency key")
    refund_id = f"rf-{digest(transaction_id, call.key)}"
    amount = amount_text(given)
    call.tx.insert(
        "payment_refunds",
        {
            "refund_id": refund_id,
            "transaction_id": transaction_id,
            "order_id": owner,
            "custody": body.custody,
            "amount": amount,
            "currency": body.currency,
            "reason": body.reason,
            "refunded_at": to_iso(call.now),
        },
    )
    # A held payment's refund is the custody's effect, not the order's: the audit judges it by
    # the money it moved, apart from the order's own run.
    detail = {"custody": body.custody} if body.custody else {}
    call.effect(
        Effect.REFUND_PAYMENT,
        body.custody or owner,
        transaction_id=transaction_id,
        refund_id=refund_id,
        amount=amount,
        currency=body.currency,
        **detail,
    )
    return RefundOut(
        refund_id=refund_id, status="refunded", amount=amount, remaining=amount_text(left - given)
    )
