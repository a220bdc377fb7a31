"""Compensation marks: once a system undid an order (or was asked to and found nothing to undo),
a late forward call of that order is refused with `409 OrderCompensated` and has no effect.

Why: a run cancelled through Temporal while a call is in flight may see its undo land first; that
undo answers "nothing to undo", and without a mark the late call would then apply and never be
undone (issue 11, sequence 6). A mark is state, not an effect: it is not in the ledger.
"""

from domain.errors import ErrorType
from sandbox.errors import BusinessRefusal
from sandbox.store import to_iso
from sandbox.systems.call import Call


def mark(call: Call, system: str, order_id: str, subject: str) -> None:
    """Mark `order_id` as compensated on `system` (the first mark stays)."""
    call.tx.execute(
        "INSERT OR IGNORE INTO compensated_orders (system, order_id, subject, compensated_at) "
        "VALUES (?, ?, ?, ?)",
        system,
        order_id,
        subject,
        to_iso(call.now),
    )


def refuse_if_marked(call: Call, system: str, order_id: str, what: str) -> None:
    """Raise `OrderCompensated` if `system` already undid `order_id`; `what` names the call."""
    row = call.tx.one(
        "SELECT subject, compensated_at FROM compensated_orders WHERE system = ? AND order_id = ?",
        system,
        order_id,
    )
    if row is not None:
        raise BusinessRefusal(
            ErrorType.ORDER_COMPENSATED,
            f"order {order_id} was compensated on {system} ({row['subject']}) at "
            f"{row['compensated_at']}: {what} for it is refused and has no effect",
            field="order_id",
        )
