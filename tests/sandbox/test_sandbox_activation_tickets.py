"""Entitlements, console cache, notifications, client refresh and tickets over HTTP."""

from typing import Any

from domain.effects import Effect
from tests.sandbox.helpers import Api

ACTIVATE = "/v1/entitlements/apps/{}/activate"
DEACTIVATE = "/v1/entitlements/apps/{}/deactivate"


def grant(order_id: str = "ORD-1", **overrides: Any) -> dict[str, Any]:
    body = {
        "order_id": order_id,
        "account_id": "acct-1",
        "plan": "premium",
        "features": ["api.cloud_recording"],
    }
    return {**body, **overrides}


async def test_activate_and_deactivate(api: Api) -> None:
    body = await api.ok(ACTIVATE.format("app-1"), grant())
    assert body == {"active": ["plan:premium", "api.cloud_recording"]}
    # Idempotent per order: another key changes nothing.
    assert await api.ok(ACTIVATE.format("app-1"), grant()) == body
    off = await api.ok(DEACTIVATE.format("app-1"), {"order_id": "ORD-1", "account_id": "acct-1"})
    assert off["applied"] is True
    again = await api.ok(DEACTIVATE.format("app-1"), {"order_id": "ORD-1", "account_id": "acct-1"})
    assert again["applied"] is False
    assert await api.effects("ORD-1") == [
        Effect.ACTIVATE_ENTITLEMENTS,
        Effect.DEACTIVATE_ENTITLEMENTS,
    ]


async def test_deactivate_with_nothing_to_undo(api: Api) -> None:
    body = await api.ok(DEACTIVATE.format("app-1"), {"order_id": "ORD-1", "account_id": "acct-1"})
    assert body["applied"] is False
    assert await api.ledger() == []


async def test_deactivating_one_order_keeps_the_others(api: Api) -> None:
    await api.ok(ACTIVATE.format("app-1"), grant("ORD-1", plan="standard", features=[]))
    both = await api.ok(ACTIVATE.format("app-1"), grant("ORD-2", features=["video.uhd_4k"]))
    assert both == {"active": ["plan:premium", "video.uhd_4k"]}
    await api.ok(DEACTIVATE.format("app-1"), {"order_id": "ORD-2", "account_id": "acct-1"})
    assert await api.ok(ACTIVATE.format("app-1"), grant("ORD-1", plan="standard", features=[])) == {
        "active": ["plan:standard"]
    }


async def test_console_cache_notifications_and_client_refresh(api: Api) -> None:
    assert await api.ok(
        "/v1/console/cache/invalidate",
        {"order_id": "ORD-1", "account_id": "acct-1", "app_id": "app-1"},
    ) == {"invalidated": True}
    notified = await api.ok(
        "/v1/notifications",
        {
            "order_id": "ORD-1",
            "account_id": "acct-1",
            "app_id": "app-1",
            "outcome": "active",
            "message": "Your premium plan is active.",
        },
        key="n1",
    )
    assert notified["notification_id"].startswith("ntf-")
    assert await api.ok(
        "/v1/clients/apps/app-1/refresh", {"order_id": "ORD-1", "media_profile_id": None}
    ) == {"requested": True}
    ledger = await api.ledger("ORD-1")
    assert [f"{e['system']}/{e['action']}" for e in ledger] == [
        Effect.INVALIDATE_CONSOLE_CACHE,
        Effect.NOTIFY_CUSTOMER,
        Effect.REQUEST_CLIENT_REFRESH,
    ]
    # The customer-facing text is not audit data.
    assert "message" not in ledger[1]["detail"]


async def test_notification_outcome_is_checked(api: Api) -> None:
    response = await api.post(
        "/v1/notifications",
        {
            "order_id": "ORD-1",
            "account_id": "acct-1",
            "app_id": "app-1",
            "outcome": "great",
            "message": "",
        },
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "outcome"


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
