"""Issue 11's failing sequences 1-5, played against the sandbox alone (no Temporal): orders of
one account overlap, and each system must end on the fold of the orders still live.

Each test first asserts through calls the old contract already had (reconcile's `account_plan`,
billing's answer, activation's `active`, a push's `state`), so it fails on the code before issue
11 for the reason the issue names, then through the new read endpoints.
"""

from typing import Any

from domain.catalog import load_catalog
from tests.sandbox.helpers import Api, FakeClock, billing_body, reconcile_body

REGIONS = list(load_catalog().regions)
PLAN = "/v1/billing/accounts/{}/plan"
VERSIONS = "/v1/config/apps/{}/versions"
ACTIVATE = "/v1/entitlements/apps/{}/activate"


async def bill(api: Api, order_id: str, from_plan: str, to_plan: str, *features: str) -> Any:
    body = billing_body(order_id, from_plan=from_plan, to_plan=to_plan, features=list(features))
    return await api.ok(PLAN.format("acct-1"), body)


async def revert(api: Api, order_id: str) -> Any:
    return await api.ok(PLAN.format("acct-1") + "/revert", {"order_id": order_id})


async def account_plan_seen_by_reconcile(api: Api, order_id: str, from_plan: str) -> str:
    """The account's plan as reconciliation sees it (409 if not `from_plan`)."""
    body = reconcile_body(from_plan=from_plan, transaction_id=f"tx-{order_id}")
    response = await api.post(f"/v1/orders/{order_id}/reconcile", body)
    assert response.status_code == 200, f"account not on {from_plan}: {response.text}"
    plan: str = response.json()["account_plan"]
    return plan


async def publish(api: Api, order_id: str, plan: str, *features: str) -> int:
    body = {
        "order_id": order_id,
        "plan": plan,
        "features": list(features),
        "change_kinds": ["plan"],
        "media_profile_id": None,
    }
    version: int = (await api.ok(VERSIONS.format("app-1"), body))["version"]
    return version


async def activate(api: Api, order_id: str, plan: str, *features: str) -> Any:
    body = {"order_id": order_id, "account_id": "acct-1", "plan": plan, "features": list(features)}
    return await api.ok(ACTIVATE.format("app-1"), body)


async def push_all(api: Api, order_id: str, version: int) -> list[str]:
    url = f"{VERSIONS.format('app-1')}/{version}/push"
    return [(await api.ok(url, {"order_id": order_id, "region": r}))["state"] for r in REGIONS]


async def test_1_a_compensation_never_wipes_out_another_order(api: Api) -> None:
    await bill(api, "A", "basic", "premium")
    await bill(api, "B", "premium", "premium", "api.cloud_recording")
    reverted = await revert(api, "A")
    assert reverted["applied"] is True
    # B is live and paid: the account keeps B's plan and add-on, not A's snapshot (basic).
    assert await account_plan_seen_by_reconcile(api, "C", "premium") == "premium"
    account = await api.get("/v1/billing/accounts/acct-1")
    assert (account["plan"], account["features"]) == ("premium", ["api.cloud_recording"])
    assert account["quota_rules"] == "monthly:premium+api.cloud_recording"


async def test_1_compensations_commute_and_net_to_zero_in_any_order(api: Api) -> None:
    for account, undo in (("acct-ab", ("A1", "B1")), ("acct-ba", ("B2", "A2"))):
        a, b = sorted(undo)
        await api.ok(PLAN.format(account), billing_body(a, to_plan="premium"))
        await api.ok(
            PLAN.format(account),
            billing_body(b, from_plan="premium", to_plan="premium", features=["video.uhd_4k"]),
        )
        first = await api.ok(PLAN.format(account) + "/revert", {"order_id": undo[0]})
        middle = await api.get(f"/v1/billing/accounts/{account}")
        await api.ok(PLAN.format(account) + "/revert", {"order_id": undo[1]})
        assert first["applied"] is True
        # Whichever went first, what is left is exactly the other order on the base plan.
        assert middle["plan"] == "premium"
        assert middle["features"] == ([] if undo[0] == b else ["video.uhd_4k"])
        end = await api.get(f"/v1/billing/accounts/{account}")
        assert (end["plan"], end["features"], end["quota_rules"]) == ("basic", [], "monthly:basic")
        assert end["version"] == 4  # two updates, two reverts


async def test_2_a_racing_order_never_downgrades_the_account(api: Api) -> None:
    # A basic->premium and B basic->standard both reconciled on basic; A is billed first.
    await bill(api, "A", "basic", "premium")
    late = await bill(api, "B", "basic", "standard")
    # The catalog forbids premium -> standard: the fold keeps the highest tier.
    assert late["plan"] == "premium"
    assert late["quota_rules"] == "monthly:premium"
    assert (await api.get("/v1/billing/accounts/acct-1"))["plan"] == "premium"


async def test_2_an_update_decided_on_a_stale_version_is_refused(api: Api) -> None:
    # Both decided on version 0 (the account as reconciliation saw it, before any change).
    await api.ok(PLAN.format("acct-1"), billing_body("A", account_version=0))
    stale = await api.post(
        PLAN.format("acct-1"), billing_body("B", to_plan="standard", account_version=0)
    )
    assert stale.status_code == 409, stale.text
    error = stale.json()["error"]
    assert (error["type"], error["field"]) == ("StaleAccountVersion", "account_version")
    assert "version 1" in error["message"]
    account = await api.get("/v1/billing/accounts/acct-1")
    assert (account["plan"], account["version"]) == ("premium", 1)
    assert await api.effects("B") == []


async def test_3_add_ons_accumulate_across_orders(api: Api, clock: FakeClock) -> None:
    # B basic -> basic + recording ends active; later A basic -> premium runs.
    await bill(api, "B", "basic", "basic", "api.cloud_recording")
    b_version = await publish(api, "B", "basic", "api.cloud_recording")
    await push_all(api, "B", b_version)
    await activate(api, "B", "basic", "api.cloud_recording")
    billed = await bill(api, "A", "basic", "premium")
    assert billed["quota_rules"] == "monthly:premium+api.cloud_recording"
    a_version = await publish(api, "A", "premium")
    await push_all(api, "A", a_version)
    clock.advance(minutes=23)
    served = (await api.get("/v1/config/apps/app-1/regions/current"))["regions"]
    assert {r: (s["version"], s["plan"], s["features"]) for r, s in served.items()} == {
        r: (a_version, "premium", ["api.cloud_recording"]) for r in REGIONS
    }


async def test_4_config_never_goes_backwards(api: Api, clock: FakeClock) -> None:
    v1 = await publish(api, "A", "premium")
    await push_all(api, "A", v1)
    v2 = await publish(api, "B", "premium", "api.traffic_boost")
    await push_all(api, "B", v2)
    clock.advance(minutes=23)
    # A laggard re-push of A's v1 after B's v2 was applied: refused, nothing recorded.
    before = await api.ledger()
    assert set(await push_all(api, "A", v1)) == {"superseded"}
    assert await api.ledger() == before
    # v2 holds A's config too: A's version counts as applied everywhere.
    assert (await api.get(f"{VERSIONS.format('app-1')}/{v1}/regions"))["pending"] == []
    served = (await api.get("/v1/config/apps/app-1/regions/current"))["regions"]
    assert {s["version"] for s in served.values()} == {v2}


async def test_4_rollback_rolls_forward_never_back_to_a_captured_version(
    api: Api, clock: FakeClock
) -> None:
    v1 = await publish(api, "A", "premium")
    await push_all(api, "A", v1)
    v2 = await publish(api, "B", "standard", "api.cloud_recording")
    await push_all(api, "B", v2)
    clock.advance(minutes=23)
    # A is undone first; B's rollback then "restores" v1 (its captured previous version): it
    # must not, v1 holds A. Each rollback rolls forward to the live orders' config.
    rollback = "/v1/config/apps/app-1/rollback"
    await api.ok(rollback, {"order_id": "A", "version": v1, "previous_version": 0})
    clock.advance(minutes=23)
    served = (await api.get("/v1/config/apps/app-1/regions/current"))["regions"]
    assert {(s["plan"], tuple(s["features"])) for s in served.values()} == {
        ("standard", ("api.cloud_recording",))
    }
    await api.ok(rollback, {"order_id": "B", "version": v2, "previous_version": v1})
    clock.advance(minutes=23)
    served = (await api.get("/v1/config/apps/app-1/regions/current"))["regions"]
    assert {(s["version"], s["plan"], tuple(s["features"])) for s in served.values()} == {
        (4, None, ())
    }


async def test_4_a_late_push_of_an_older_version_cannot_bring_an_undone_order_back(
    api: Api, clock: FakeClock
) -> None:
    v1 = await publish(api, "A", "premium")
    v2 = await publish(api, "B", "premium", "api.traffic_boost")  # holds A and B
    await api.ok(
        "/v1/config/apps/app-1/rollback", {"order_id": "A", "version": v1, "previous_version": 0}
    )
    # B's first pushes land only now: the roll-forward version is already on its way everywhere.
    assert set(await push_all(api, "B", v2)) == {"superseded"}
    clock.advance(minutes=23)
    assert (await api.get(f"{VERSIONS.format('app-1')}/{v2}/regions"))["pending"] == []
    served = (await api.get("/v1/config/apps/app-1/regions/current"))["regions"]
    assert {(s["plan"], tuple(s["features"])) for s in served.values()} == {
        ("premium", ("api.traffic_boost",))
    }


async def test_5_the_effective_plan_is_the_highest_tier_not_the_newest(api: Api) -> None:
    await activate(api, "A", "premium")
    after_b = await activate(api, "B", "basic", "api.cloud_recording")
    assert after_b == {"active": ["plan:premium", "api.cloud_recording"]}
    assert await api.get("/v1/entitlements/apps/app-1") == {
        "app_id": "app-1",
        "account_id": "acct-1",
        "plan": "premium",
        "features": ["api.cloud_recording"],
    }
