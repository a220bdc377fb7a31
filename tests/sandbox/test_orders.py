"""Reconciliation over HTTP: every mismatch token and rule."""

from collections.abc import Mapping

from domain.effects import Effect
from tests.sandbox.helpers import Api, billing_body, reconcile_body

RECONCILE = "/v1/orders/{}/reconcile"
PLAN = "/v1/billing/accounts/{}/plan"


async def assert_mismatch(api: Api, order_id: str, body: Mapping[str, object], field: str) -> str:
    response = await api.post(RECONCILE.format(order_id), dict(body))
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["type"] == "ReconciliationMismatch"
    assert error["field"] == field
    message: str = error["message"]
    return message


async def test_reconcile_creates_account_and_app_on_first_sight(api: Api) -> None:
    body = await api.ok(RECONCILE.format("ORD-1"), reconcile_body(), key="k1")
    assert body == {"account_plan": "basic"}
    ledger = await api.ledger("ORD-1")
    assert [(e["system"], e["action"], e["key"]) for e in ledger] == [
        (Effect.RECONCILE_ORDER.system, Effect.RECONCILE_ORDER.action, "k1")
    ]
    assert ledger[0]["detail"]["transaction_id"] == "tx-1"


async def test_stale_account_is_a_from_plan_mismatch(api: Api) -> None:
    message = await assert_mismatch(
        api, "ORD-1", reconcile_body(account_id="acct-stale-1"), "from_plan"
    )
    assert "acct-stale-1" in message
    assert "'basic'" in message
    assert await api.ledger() == []


async def test_app_of_another_account_is_a_mismatch(api: Api) -> None:
    await api.ok(RECONCILE.format("ORD-1"), reconcile_body())
    message = await assert_mismatch(
        api,
        "ORD-2",
        reconcile_body(account_id="acct-2", transaction_id="tx-2"),
        "app_id",
    )
    assert "app-1" in message


async def test_transaction_claimed_by_another_order_is_a_mismatch(api: Api) -> None:
    await api.ok(RECONCILE.format("ORD-1"), reconcile_body())
    message = await assert_mismatch(api, "ORD-2", reconcile_body(), "transaction_id")
    assert "ORD-1" in message
    # The same order reconciling again (e.g. an operator's retry) is fine.
    await api.ok(RECONCILE.format("ORD-1"), reconcile_body())


async def test_a_refusal_is_not_stored_under_its_key(api: Api) -> None:
    # ORD-2 expects the account on premium: refused while it is on basic...
    await api.ok(RECONCILE.format("ORD-1"), reconcile_body())
    ord2 = reconcile_body(from_plan="premium", transaction_id="tx-2")
    refused = await api.post(RECONCILE.format("ORD-2"), ord2, key="k-ord2")
    assert refused.status_code == 409
    # ...then ORD-1's upgrade puts it there, and the very same call (same key) now succeeds.
    await api.ok(PLAN.format("acct-1"), billing_body())
    assert await api.ok(RECONCILE.format("ORD-2"), ord2, key="k-ord2") == {
        "account_plan": "premium"
    }


async def test_unknown_plan_is_a_contract_error(api: Api) -> None:
    response = await api.post(RECONCILE.format("ORD-1"), reconcile_body(from_plan="gold"))
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "from_plan"


async def test_an_approved_check_is_skipped_but_the_others_and_the_claim_still_hold(
    api: Api,
) -> None:
    # Issue 12, finding 7: `approve` of a stale plan overrides that check only.
    stale = {**reconcile_body(account_id="acct-stale-1"), "overrides": ["from_plan"]}
    await api.ok(RECONCILE.format("ORD-1"), stale)
    ledger = await api.ledger("ORD-1")
    assert [e["detail"]["transaction_id"] for e in ledger] == ["tx-1"]  # claimed
    # The claim holds against another order, whatever it overrides...
    other = {**reconcile_body(account_id="acct-stale-1"), "overrides": ["from_plan", "app_id"]}
    await assert_mismatch(api, "ORD-2", other, "transaction_id")
    # ...and an override of the plan does not override the app's owner.
    foreign = {
        **reconcile_body(account_id="acct-2", transaction_id="tx-2"),
        "overrides": ["from_plan"],
    }
    await assert_mismatch(api, "ORD-3", foreign, "app_id")


async def test_a_from_plan_mismatch_names_the_order_that_changed_the_account(api: Api) -> None:
    # ORD-1 moved acct-1 basic -> premium; ORD-2, decided on basic, reconciles after it.
    await api.ok(RECONCILE.format("ORD-1"), reconcile_body())
    await api.ok(PLAN.format("acct-1"), billing_body())
    refused = await api.post(RECONCILE.format("ORD-2"), reconcile_body(transaction_id="tx-2"))
    assert refused.status_code == 409
    message = refused.json()["error"]["message"]
    assert "on plan 'premium'" in message and "changed by order ORD-1" in message
