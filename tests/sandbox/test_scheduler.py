"""The scheduler over HTTP: allocation, readiness over time, release, with a hand-moved clock."""

from typing import Any

from domain.effects import Effect
from sandbox import scenarios
from tests.sandbox.helpers import Api, FakeClock

ALLOC = "/v1/scheduler/allocations"


def allocation(app_id: str = "app-1", order_id: str = "ORD-1") -> dict[str, Any]:
    return {
        "order_id": order_id,
        "app_id": app_id,
        "regions": ["us-west", "cn-north", "eu-west"],
        "features": ["ai.conversational_multimodal"],
    }


async def test_nocap_is_refused_for_good(api: Api) -> None:
    response = await api.post(ALLOC, allocation(app_id="app-nocap"))
    assert response.status_code == 409
    assert response.json()["error"]["type"] == "CapacityRefused"
    assert await api.ledger() == []


async def test_regions_become_ready_between_10_and_20_minutes(api: Api, clock: FakeClock) -> None:
    first = await api.ok(ALLOC, allocation())
    # Regions come back in catalog order, whatever order they were asked in.
    assert first == {
        "allocation_id": "alloc-ORD-1",
        "ready_regions": [],
        "pending_regions": ["cn-north", "eu-west", "us-west"],
    }
    clock.advance(minutes=12.5)
    half = await api.get(f"{ALLOC}/ORD-1", app_id="app-1")
    expected = [
        r
        for r in ("cn-north", "eu-west", "us-west")
        if scenarios.allocation_delay("app-1", r, 1.0).total_seconds() <= 750
    ]
    assert half["ready_regions"] == expected
    clock.advance(minutes=2.5)
    done = await api.get(f"{ALLOC}/ORD-1")
    assert done["ready_regions"] == ["cn-north", "eu-west", "us-west"]
    assert done["pending_regions"] == []


async def test_allocation_is_idempotent_per_order(api: Api) -> None:
    await api.ok(ALLOC, allocation(), key="a1")
    await api.ok(ALLOC, allocation(), key="a2")
    assert await api.effects("ORD-1") == [Effect.ALLOCATE_RESOURCES]


async def test_release(api: Api) -> None:
    await api.ok(ALLOC, allocation())
    released = await api.ok(f"{ALLOC}/ORD-1/release", {"app_id": "app-1"})
    assert released == {"applied": True, "detail": "released alloc-ORD-1"}
    again = await api.ok(f"{ALLOC}/ORD-1/release", {"app_id": "app-1"})
    assert again["applied"] is False
    assert (await api.http.get(f"{ALLOC}/ORD-1")).status_code == 404
    assert await api.effects("ORD-1") == [Effect.ALLOCATE_RESOURCES, Effect.RELEASE_ALLOCATION]


async def test_release_with_nothing_to_undo(api: Api) -> None:
    body = await api.ok(f"{ALLOC}/ORD-9/release", {"app_id": "app-1"})
    assert body["applied"] is False
    assert await api.ledger() == []


async def test_unknown_region_is_a_contract_error(api: Api) -> None:
    response = await api.post(ALLOC, {**allocation(), "regions": ["mars-1"]})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "regions"
