"""Tickets over HTTP: one per order and reason, closing, unknown or foreign tickets."""

from typing import Any

from domain.effects import Effect
from tests.sandbox.helpers import Api


def ticket(reason: str = "activation_sla") -> dict[str, Any]:
    return {
        "order_id": "ORD-1",
        "reason": reason,
        "severity": "high",
        "diagnosis": {"stage": "propagating", "lagging_regions": ["eu-west"]},
    }


async def test_one_ticket_per_order_and_reason(api: Api) -> None:
    first = await api.ok("/v1/tickets", ticket(), key="t1")
    # A different key (e.g. a new run of the same order) still finds the same ticket.
    assert await api.ok("/v1/tickets", ticket(), key="t2") == first
    other = await api.ok("/v1/tickets", ticket("reconciliation_mismatch"), key="t3")
    assert other != first
    opened = [e for e in await api.ledger("ORD-1") if e["action"] == Effect.ESCALATE.action]
    assert [e["key"] for e in opened] == ["t1", "t3"]


async def test_close_ticket(api: Api) -> None:
    ticket_id = (await api.ok("/v1/tickets", ticket()))["ticket_id"]
    close = {"order_id": "ORD-1", "resolution": "activated after re-push"}
    assert await api.ok(f"/v1/tickets/{ticket_id}/close", close) == {"closed": True}
    assert await api.ok(f"/v1/tickets/{ticket_id}/close", close) == {"closed": True}
    assert await api.effects("ORD-1") == [Effect.ESCALATE, Effect.CLOSE_TICKET]


async def test_close_unknown_or_foreign_ticket(api: Api) -> None:
    unknown = await api.post(
        "/v1/tickets/TKT-999999/close", {"order_id": "ORD-1", "resolution": ""}
    )
    assert unknown.status_code == 404
    ticket_id = (await api.ok("/v1/tickets", ticket()))["ticket_id"]
    foreign = await api.post(
        f"/v1/tickets/{ticket_id}/close", {"order_id": "ORD-2", "resolution": ""}
    )
    assert foreign.status_code == 422
    assert foreign.json()["error"]["field"] == "order_id"
