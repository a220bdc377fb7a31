"""Billing over HTTP: update, pay-as-you-go, revert, unknown features."""

from domain.effects import Effect
from tests.sandbox.helpers import Api, billing_body, reconcile_body

RECONCILE = "/v1/orders/{}/reconcile"
PLAN = "/v1/billing/accounts/{}/plan"


async def test_billing_update_switches_plan_and_quota_rules(api: Api) -> None:
    body = await api.ok(
        PLAN.format("acct-1"), billing_body(features=["api.cloud_recording"]), key="b1"
    )
    assert body == {
        "previous_plan": "basic",
        "plan": "premium",
        "quota_rules": "monthly:premium+api.cloud_recording",
    }
    # Idempotent on the order id: another key, same answer, no second effect.
    again = await api.ok(
        PLAN.format("acct-1"), billing_body(features=["api.cloud_recording"]), key="b2"
    )
    assert again == body
    assert await api.effects("ORD-1") == [Effect.UPDATE_BILLING_PLAN]


async def test_billing_from_pay_as_you_go(api: Api) -> None:
    body = await api.ok(
        PLAN.format("acct-9"), billing_body(from_plan="pay_as_you_go", to_plan="basic")
    )
    assert body == {
        "previous_plan": "pay_as_you_go",
        "plan": "basic",
        "quota_rules": "monthly:basic",
    }


async def test_revert_restores_the_plan_saved_by_the_order(api: Api) -> None:
    await api.ok(PLAN.format("acct-1"), billing_body())
    reverted = await api.ok(PLAN.format("acct-1") + "/revert", {"order_id": "ORD-1"})
    assert reverted["applied"] is True
    assert "basic" in reverted["detail"]
    # The account is back on basic: an order from basic reconciles again.
    await api.ok(RECONCILE.format("ORD-2"), reconcile_body(transaction_id="tx-2"))
    twice = await api.ok(PLAN.format("acct-1") + "/revert", {"order_id": "ORD-1"})
    assert twice["applied"] is False
    assert await api.effects("ORD-1") == [Effect.UPDATE_BILLING_PLAN, Effect.REVERT_BILLING_PLAN]


async def test_revert_with_nothing_to_undo(api: Api) -> None:
    body = await api.ok(PLAN.format("acct-1") + "/revert", {"order_id": "ORD-404"})
    assert body["applied"] is False
    assert "never updated" in body["detail"]
    assert await api.ledger() == []


async def test_billing_refuses_unknown_features(api: Api) -> None:
    response = await api.post(PLAN.format("acct-1"), billing_body(features=["api.teleport"]))
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "features"
