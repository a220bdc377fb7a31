"""Compensation marks: a forward call that lands after its own undo (a run cancelled through
Temporal while the call was in flight) is refused with `409 OrderCompensated` and has no effect,
on billing, config and entitlements, even when the undo found nothing to undo."""

from typing import Any

from domain.effects import Effect
from tests.sandbox.helpers import Api, billing_body

PLAN = "/v1/billing/accounts/acct-1/plan"
VERSIONS = "/v1/config/apps/app-1/versions"


def publish_body(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "plan": "premium", "features": [], "change_kinds": ["plan"]}


def grant(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "account_id": "acct-1", "plan": "premium", "features": []}


async def refused(api: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, body)
    assert response.status_code == 409, response.text
    error: dict[str, Any] = response.json()["error"]
    assert (error["type"], error["field"]) == ("OrderCompensated", "order_id")
    return error


async def test_a_billing_update_after_its_revert_is_refused(api: Api) -> None:
    undo = await api.ok(PLAN + "/revert", {"order_id": "ORD-1"})
    assert undo["applied"] is False  # the update was still in flight
    error = await refused(api, PLAN, billing_body("ORD-1"))
    assert "billing update" in error["message"]
    assert await api.ledger() == []
    # The account never existed for billing: nothing was created by the refused call.
    assert (await api.http.get("/v1/billing/accounts/acct-1")).status_code == 404


async def test_a_billing_update_after_a_real_revert_is_refused_too(api: Api) -> None:
    # The old REPLACE ("a reverted order may update again") is gone: nothing relied on it.
    await api.ok(PLAN, billing_body("ORD-1"))
    await api.ok(PLAN + "/revert", {"order_id": "ORD-1"})
    await refused(api, PLAN, billing_body("ORD-1"))
    assert (await api.get("/v1/billing/accounts/acct-1"))["plan"] == "basic"
    assert await api.effects("ORD-1") == [Effect.UPDATE_BILLING_PLAN, Effect.REVERT_BILLING_PLAN]


async def test_a_publish_or_push_after_its_rollback_is_refused(api: Api) -> None:
    rollback = {"order_id": "ORD-1", "version": 1, "previous_version": 0}
    assert (await api.ok("/v1/config/apps/app-1/rollback", rollback))["applied"] is False
    await refused(api, VERSIONS, publish_body("ORD-1"))
    # Another order publishes v1; the compensated order's push of it is refused as well.
    await api.ok(VERSIONS, publish_body("ORD-2"))
    await refused(api, VERSIONS + "/1/push", {"order_id": "ORD-1", "region": "cn-east"})
    assert await api.effects("ORD-1") == []


async def test_an_activation_after_its_deactivation_is_refused(api: Api) -> None:
    off = await api.ok(
        "/v1/entitlements/apps/app-1/deactivate", {"order_id": "ORD-1", "account_id": "acct-1"}
    )
    assert off["applied"] is False
    await refused(api, "/v1/entitlements/apps/app-1/activate", grant("ORD-1"))
    assert await api.ledger() == []


async def test_marks_are_per_system(api: Api) -> None:
    # Undoing billing does not block the order's config or entitlements (the saga undoes
    # newest first; a system not yet undone still takes its forward call).
    await api.ok(PLAN + "/revert", {"order_id": "ORD-1"})
    await api.ok(VERSIONS, publish_body("ORD-1"))
    await api.ok("/v1/entitlements/apps/app-1/activate", grant("ORD-1"))


async def test_a_refused_late_call_can_be_replayed_under_its_key_only_if_it_had_applied(
    api: Api,
) -> None:
    # The forward call had applied (stored under its key) before the undo: a retry of the same
    # key replays the stored answer, applying nothing; the undo already took it out.
    await api.ok(PLAN, billing_body("ORD-1"), key="wf:update")
    await api.ok(PLAN + "/revert", {"order_id": "ORD-1"})
    replay = await api.post(PLAN, billing_body("ORD-1"), key="wf:update")
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert (await api.get("/v1/billing/accounts/acct-1"))["plan"] == "basic"
