"""Ticketing: one ticket per (order, reason), whatever idempotency key opens it, and closing."""

import json

from domain.effects import Effect
from sandbox.errors import NotFound, Unprocessable
from sandbox.schemas import ClosedOut, CloseTicketIn, TicketIn, TicketOut
from sandbox.store import to_iso
from sandbox.systems.call import Call


def escalate(call: Call, body: TicketIn) -> TicketOut:
    existing = call.tx.one(
        "SELECT ticket_id FROM tickets WHERE order_id = ? AND reason = ?",
        body.order_id,
        body.reason,
    )
    if existing is not None:
        # The same escalation raised twice (e.g. after a worker restart) must page people once.
        return TicketOut(ticket_id=existing["ticket_id"])
    seq = call.tx.scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets")
    ticket_id = f"TKT-{seq:06d}"
    call.tx.insert(
        "tickets",
        {
            "seq": seq,
            "ticket_id": ticket_id,
            "order_id": body.order_id,
            "reason": body.reason,
            "severity": body.severity.value,
            "diagnosis": json.dumps(body.diagnosis, sort_keys=True),
            "opened_at": to_iso(call.now),
        },
    )
    call.effect(
        Effect.ESCALATE,
        body.order_id,
        ticket_id=ticket_id,
        reason=body.reason,
        severity=body.severity.value,
    )
    return TicketOut(ticket_id=ticket_id)


def close_ticket(call: Call, ticket_id: str, body: CloseTicketIn) -> ClosedOut:
    row = call.tx.one("SELECT order_id, closed_at FROM tickets WHERE ticket_id = ?", ticket_id)
    if row is None:
        raise NotFound(f"unknown ticket {ticket_id!r}", field="ticket_id")
    if row["order_id"] != body.order_id:
        raise Unprocessable(f"ticket {ticket_id} belongs to another order", field="order_id")
    if row["closed_at"] is None:
        call.tx.execute(
            "UPDATE tickets SET closed_at = ?, resolution = ? WHERE ticket_id = ?",
            to_iso(call.now),
            body.resolution,
            ticket_id,
        )
        call.effect(Effect.CLOSE_TICKET, body.order_id, ticket_id=ticket_id)
    return ClosedOut(closed=True)
