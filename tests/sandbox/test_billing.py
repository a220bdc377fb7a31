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


async def test_the_account_read_shows_the_fold_and_its_version(api: Api) -> None:
    missing = await api.http.get("/v1/billing/accounts/acct-1")
    assert missing.status_code == 404
    assert missing.json()["error"]["field"] == "account_id"
    await api.ok(PLAN.format("acct-1"), billing_body(features=["video.uhd_4k"]))
    # The same order again (another key): no change, no new version.
    await api.ok(PLAN.format("acct-1"), billing_body(features=["video.uhd_4k"]))
    assert await api.get("/v1/billing/accounts/acct-1") == {
        "account_id": "acct-1",
        "plan": "premium",
        "features": ["video.uhd_4k"],
        "quota_rules": "monthly:premium+video.uhd_4k",
        "version": 1,
    }
    await api.ok(PLAN.format("acct-1") + "/revert", {"order_id": "ORD-1"})
    account = await api.get("/v1/billing/accounts/acct-1")
    assert (account["plan"], account["features"], account["version"]) == ("basic", [], 2)


async def test_a_retry_of_an_applied_update_is_not_stale(api: Api) -> None:
    # Its own update moved the version on; a retry under a new key answers what it did.
    first = await api.ok(PLAN.format("acct-1"), billing_body(account_version=0))
    assert await api.ok(PLAN.format("acct-1"), billing_body(account_version=0)) == first


async def test_a_fencing_token_lower_than_one_seen_is_refused(api: Api) -> None:
    await api.ok(PLAN.format("acct-1"), billing_body("ORD-1", fencing_token=2))
    old_holder = await api.post(
        PLAN.format("acct-1"),
        billing_body("ORD-2", from_plan="premium", to_plan="enterprise", fencing_token=1),
    )
    assert old_holder.status_code == 409
    error = old_holder.json()["error"]
    assert (error["type"], error["field"]) == ("StaleAccountVersion", "fencing_token")
    assert await api.effects("ORD-2") == []
    # The same token again (the holder's next order) and a higher one are accepted.
    await api.ok(PLAN.format("acct-1"), billing_body("ORD-3", from_plan="premium", fencing_token=2))
    await api.ok(
        PLAN.format("acct-1"),
        billing_body("ORD-4", from_plan="premium", to_plan="enterprise", fencing_token=3),
    )
    assert (await api.get("/v1/billing/accounts/acct-1"))["plan"] == "enterprise"


async def test_guards_are_checked_as_input(api: Api) -> None:
    for field, value in (("account_version", -1), ("fencing_token", 0)):
        response = await api.post(PLAN.format("acct-1"), {**billing_body(), field: value})
        assert response.status_code == 422
        assert response.json()["error"]["field"] == field
