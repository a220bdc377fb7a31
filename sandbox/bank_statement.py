"""The sandbox's bank: the statement of the corporate transfers it settled, as a bank exports it.

One line per corporate-transfer transaction the bank has received (`scenarios.capture`, the
rules the query API answers with: its scenario succeeded, or it was settled by hand with
`python -m sandbox settle`), booked on the day (Beijing time) it settled: the amount received
(`pay-short` transfers arrive 1.00 short, `pay-over` 1.00 over, a hand-settled one with what was
settled), the payer, a memo holding the order's
payment reference code among other words (as a payer writes it), and a bank reference unique to
the transaction. The file is what `starter.py import-statement` reads (`channels.statement`).

Boundary: reads the sandbox's transactions; writes nothing.
"""

from datetime import date, timedelta, timezone

from channels.reference import payment_reference
from channels.statement import StatementEntry, write_statement
from domain.models import PaymentMethod
from sandbox import scenarios
from sandbox.systems.call import Call, digest

BEIJING = timezone(timedelta(hours=8))


def settled_transfers(call: Call, day: date | None = None) -> list[StatementEntry]:
    """The credits of every settled corporate transfer, booked on `day` (all days if None)."""
    method = PaymentMethod.CORPORATE_TRANSFER
    entries: list[StatementEntry] = []
    rows = call.tx.all(
        "SELECT * FROM transactions WHERE method = ? ORDER BY created_at, transaction_id",
        method.value,
    )
    for row in rows:
        taken = scenarios.capture(row, call.now, call.time_scale)
        if taken is None:
            continue
        booking_date = taken.at.astimezone(BEIJING).date()
        if day is not None and booking_date != day:
            continue
        order_id = row["order_id"]
        entries.append(
            StatementEntry(
                booking_date=booking_date,
                amount=taken.amount,
                currency=row["currency"],
                payer_name=f"Sandbox payer of {order_id}",
                memo=f"货款 payment {payment_reference(order_id)} order {order_id}",
                bank_reference=f"SBX{booking_date:%Y%m%d}{digest(row['transaction_id'])[:10].upper()}",
            )
        )
    return entries


def statement_text(call: Call, day: date | None = None) -> str:
    return write_statement(settled_transfers(call, day))
