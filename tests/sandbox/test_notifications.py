"""Console cache, customer notifications and client refresh over HTTP."""

from domain.effects import Effect
from tests.sandbox.helpers import Api


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
