"""The cross-order facts gathered from a real sandbox (in-process ASGI): issue 11's sequence 1
played to its end, then collected and judged clean; an order only the ledger names is looked up.
"""

import random
from pathlib import Path

import httpx

from audit.collect_platform import collect_platform, final_stage
from audit.consistency import check_platform
from audit.facts import LedgerEntry, RunFacts
from domain.catalog import load_catalog
from sandbox.app import create_app
from sandbox.store import Store
from tests.audit.test_checks import run
from tests.sandbox.helpers import Api, FakeClock, billing_body

REGIONS = load_catalog().regions
RECORDING = "api.cloud_recording"


def order_run(order_id: str, stage: str, to_plan: str, *features: str) -> RunFacts:
    return run(order_id=order_id, workflow_id=f"upgrade-{order_id}", stage=stage,
               account_id="acct-1", app_id="app-1", to_plan=to_plan, features=features)  # fmt: skip


async def play_sequence_1(api: Api, clock: FakeClock) -> None:
    plan = "/v1/billing/accounts/acct-1/plan"
    versions = "/v1/config/apps/app-1/versions"
    await api.ok(plan, billing_body("A", to_plan="premium"))
    await api.ok(plan, billing_body("B", from_plan="premium", to_plan="premium",
                                    features=[RECORDING]))  # fmt: skip
    for order_id, features in (("A", []), ("B", [RECORDING])):
        body = {"order_id": order_id, "plan": "premium", "features": features,
                "change_kinds": ["plan"]}  # fmt: skip
        version = (await api.ok(versions, body))["version"]
        for region in REGIONS:
            await api.ok(f"{versions}/{version}/push", {"order_id": order_id, "region": region})
    await api.ok("/v1/entitlements/apps/app-1/activate", {"order_id": "B", "account_id": "acct-1",
                 "plan": "premium", "features": [RECORDING]})  # fmt: skip
    # A is cancelled: its compensations, newest first.
    await api.ok("/v1/config/apps/app-1/rollback", {"order_id": "A", "version": 1,
                                                    "previous_version": 0})  # fmt: skip
    await api.ok(plan + "/revert", {"order_id": "A"})
    clock.advance(minutes=23)


async def test_sequence_1_played_to_its_end_is_consistent(tmp_path: Path) -> None:
    clock = FakeClock()
    store = Store(tmp_path / "sandbox.sqlite3")
    app = create_app(store, clock=clock, rng=random.Random(1))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://s") as http:
            api = Api(http)
            await play_sequence_1(api, clock)
            ledger = [LedgerEntry.model_validate(e) for e in await api.ledger()]
        looked_up: list[str] = []

        async def find_runs(order_id: str) -> list[RunFacts]:
            looked_up.append(order_id)
            return [order_run("A", "cancelled", "premium")]

        # Only B's run was collected (A fell outside the scope): A is found through the ledger.
        facts = await collect_platform(
            "http://s", [order_run("B", "active", "premium", RECORDING)], ledger, find_runs,
            transport=transport,
        )  # fmt: skip
    finally:
        store.close()
    assert looked_up == ["A"]
    [account] = facts.accounts
    assert (account.plan, account.features, account.base_plan) == ("premium", (RECORDING,), "basic")
    [application] = facts.apps
    assert (application.entitled_plan, application.latest_version) == ("premium", 3)
    assert {r: s.version for r, s in application.regions.items()} == dict.fromkeys(REGIONS, 3)
    assert {(o.order_id, o.final) for o in facts.orders} == {("A", "cancelled"), ("B", "active")}
    assert check_platform(facts) == ([], [])


def test_the_final_stage_is_the_one_chains_last_completed_run() -> None:
    assert final_stage([order_run("A", "active", "premium")]) == "active"
    assert final_stage([run(status="running", stage="propagating")]) is None
    assert final_stage([run(), run(run_id="run-2", chain_id="run-2")]) is None


async def test_reads_answered_503_are_tried_again(tmp_path: Path) -> None:
    """The reads go through the platform's faults: a 30% error rate must not sink the audit."""
    store = Store(tmp_path / "sandbox.sqlite3")
    app = create_app(store, clock=FakeClock(), rng=random.Random(7), sleep=_no_sleep)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://s") as http:
            await Api(http).ok("/v1/billing/accounts/acct-1/plan", billing_body("B"))
            faults = await http.put("/v1/sandbox/faults", json={"error_rate": 0.5})
            assert faults.status_code == 200
        runs = [order_run("B", "active", "premium")]
        for _ in range(5):
            facts = await collect_platform("http://s", runs, [], _none, transport=transport)
            assert facts.accounts[0].plan == "premium"
    finally:
        store.close()


async def _no_sleep(seconds: float) -> None:
    return None


async def _none(order_id: str) -> list[RunFacts]:
    return []
