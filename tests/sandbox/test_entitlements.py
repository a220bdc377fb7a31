"""Entitlements over HTTP: activate, deactivate, other orders kept."""

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


async def test_the_effective_state_read(api: Api) -> None:
    unknown = await api.http.get("/v1/entitlements/apps/app-1")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["field"] == "app_id"
    await api.ok(ACTIVATE.format("app-1"), grant("ORD-1", plan="enterprise", features=[]))
    await api.ok(ACTIVATE.format("app-1"), grant("ORD-2", features=["video.uhd_4k"]))
    state = await api.get("/v1/entitlements/apps/app-1")
    assert state == {
        "app_id": "app-1",
        "account_id": "acct-1",
        "plan": "enterprise",
        "features": ["video.uhd_4k"],
    }
    for order_id in ("ORD-1", "ORD-2"):
        await api.ok(DEACTIVATE.format("app-1"), {"order_id": order_id, "account_id": "acct-1"})
    # Nothing live: no plan from this service (the account's base plan is billing's).
    assert await api.get("/v1/entitlements/apps/app-1") == {
        "app_id": "app-1",
        "account_id": "acct-1",
        "plan": None,
        "features": [],
    }
