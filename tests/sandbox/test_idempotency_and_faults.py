"""The contract's cross-cutting rules: Idempotency-Key, error format, ledger, fault injection."""

import random
from typing import Any

import httpx

from sandbox.app import create_app
from sandbox.store import Store
from tests.sandbox.helpers import Api, FakeClock, Sleeps

RECONCILE = "/v1/orders/ORD-1/reconcile"
BODY = {"account_id": "acct-1", "app_id": "app-1", "from_plan": "basic", "transaction_id": "tx-1"}


async def test_a_mutating_call_without_key_is_a_bad_request(api: Api) -> None:
    # Even with an invalid body: the missing key is reported first.
    response = await api.http.post(RECONCILE, json={"nonsense": True})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "type": "MissingIdempotencyKey",
            "message": "missing Idempotency-Key header: every mutating call must carry one",
            "field": "Idempotency-Key",
        }
    }
    assert await api.ledger() == []


async def test_a_repeated_key_replays_and_adds_no_effect(api: Api) -> None:
    first = await api.post(RECONCILE, BODY, key="wf:reconcile")
    again = await api.post(RECONCILE, BODY, key="wf:reconcile")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [e["key"] for e in await api.ledger()] == ["wf:reconcile"]


async def test_a_key_belongs_to_one_endpoint(api: Api) -> None:
    await api.ok(RECONCILE, BODY, key="k")
    reused = await api.post("/v1/orders/ORD-2/reconcile", BODY, key="k")
    assert reused.status_code == 422
    assert reused.json()["error"]["type"] == "IdempotencyKeyReused"


async def test_contract_errors_use_the_error_format(api: Api) -> None:
    unknown_route = await api.http.get("/v1/nothing-here")
    assert unknown_route.status_code == 404
    assert unknown_route.json()["error"]["type"] == "NotFound"
    invalid = await api.post(RECONCILE, {**BODY, "extra": 1})
    assert invalid.status_code == 422
    assert invalid.json()["error"]["type"] == "ValidationError"
    bad_json = await api.http.post(
        RECONCILE,
        content=b"{not json",
        headers={"Idempotency-Key": "x", "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 422
    assert "not valid JSON" in bad_json.json()["error"]["message"]


async def test_ledger_lists_effects_in_order_and_filters_by_order(api: Api) -> None:
    await api.ok(RECONCILE, BODY, key="a")
    await api.ok("/v1/orders/ORD-2/reconcile", {**BODY, "transaction_id": "tx-2"}, key="b")
    await api.ok(
        "/v1/billing/accounts/acct-1/plan",
        {"order_id": "ORD-1", "app_id": "app-1", "from_plan": "basic", "to_plan": "premium"},
        key="c",
    )
    everything = await api.ledger()
    assert [e["key"] for e in everything] == ["a", "b", "c"]
    assert [e["seq"] for e in everything] == sorted(e["seq"] for e in everything)
    assert set(everything[0]) == {"seq", "system", "action", "order_id", "key", "at", "detail"}
    assert [e["key"] for e in await api.ledger("ORD-1")] == ["a", "c"]
    assert await api.ledger("ORD-404") == []


async def test_fault_switch_roundtrip_and_validation(api: Api) -> None:
    assert await api.get("/v1/sandbox/faults") == {"error_rate": 0.0, "latency_ms": 0}
    put = await api.http.put("/v1/sandbox/faults", json={"error_rate": 0.25, "latency_ms": 40})
    assert put.json() == {"error_rate": 0.25, "latency_ms": 40}
    assert await api.get("/v1/sandbox/faults") == {"error_rate": 0.25, "latency_ms": 40}
    bad = await api.http.put("/v1/sandbox/faults", json={"error_rate": 1.5, "latency_ms": 0})
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "error_rate"


async def test_full_error_rate_fails_every_platform_call_but_not_admin(api: Api) -> None:
    await api.http.put("/v1/sandbox/faults", json={"error_rate": 1.0, "latency_ms": 0})
    read = await api.http.get("/v1/payments/transactions/tx-1", params={"order_id": "O"})
    assert read.status_code == 503
    assert read.json()["error"]["type"] == "PlatformUnavailable"
    for _ in range(5):
        assert (await api.post(RECONCILE, BODY)).status_code == 503
    assert (await api.http.get("/healthz")).status_code == 200
    assert (await api.http.get("/v1/sandbox/ledger")).status_code == 200


async def test_injected_failures_after_the_effect_never_apply_twice(api: Api) -> None:
    """Half the injected 503s of mutating calls land after the effect: a retry with the same
    key must then replay, so each key ends with exactly one effect."""
    await api.http.put("/v1/sandbox/faults", json={"error_rate": 0.5, "latency_ms": 0})
    attempts = 0
    for n in range(30):
        body = {**BODY, "transaction_id": f"tx-{n}"}
        while True:  # a caller retrying with its key until it gets an answer
            attempts += 1
            response = await api.post(f"/v1/orders/ORD-{n}/reconcile", body, key=f"k{n}")
            if response.status_code == 200:
                break
            assert response.status_code == 503
    ledger = await api.ledger()
    assert sorted(e["key"] for e in ledger) == sorted(f"k{n}" for n in range(30))
    assert attempts > 30  # faults did happen (seeded generator)


async def test_latency_is_added_to_platform_calls(api: Api, sleeps: Sleeps) -> None:
    await api.http.put("/v1/sandbox/faults", json={"error_rate": 0.0, "latency_ms": 250})
    await api.ok(RECONCILE, BODY)
    await api.get("/v1/sandbox/ledger")
    assert sleeps.calls == [0.25]  # the admin call was not slowed down


async def count_503(api: Api, app_id: str, calls: int) -> int:
    failures = 0
    for n in range(calls):
        response = await api.post(
            "/v1/console/cache/invalidate",
            {"order_id": f"ORD-{n}", "account_id": "acct-1", "app_id": app_id},
        )
        failures += response.status_code == 503
    return failures


async def test_flaky_app_fails_about_30_percent(api: Api) -> None:
    flaky = await count_503(api, "app-flaky-1", 200)
    assert 40 <= flaky <= 80
    assert await count_503(api, "app-steady", 50) == 0


async def test_flaky_app_in_the_path_or_query(api: Api) -> None:
    statuses: list[int] = []
    for _ in range(60):
        response = await api.http.get("/v1/config/apps/app-flaky/versions/1/regions")
        statuses.append(response.status_code)
    assert 503 in statuses
    assert 404 in statuses  # the rest reached the route: the version does not exist


async def test_faults_are_not_stored(store: Store, clock: FakeClock) -> None:
    """The fault switch lives in memory: a restarted sandbox starts healthy."""
    app = create_app(store, clock=clock, rng=random.Random(1))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://s") as http:
        await http.put("/v1/sandbox/faults", json={"error_rate": 1.0, "latency_ms": 0})
    again = create_app(store, clock=clock)
    transport = httpx.ASGITransport(app=again)
    async with httpx.AsyncClient(transport=transport, base_url="http://s") as http:
        body: dict[str, Any] = (await http.get("/v1/sandbox/faults")).json()
    assert body == {"error_rate": 0.0, "latency_ms": 0}
