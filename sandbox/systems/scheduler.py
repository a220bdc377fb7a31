"""The resource scheduler: compute for `capability` changes, one allocation per order, regions
ready after a deterministic 10-20 min (scaled); `nocap` apps are refused for good."""

import json
import sqlite3

from domain.effects import Effect
from domain.errors import ErrorType
from sandbox import scenarios
from sandbox.errors import BusinessRefusal, NotFound, Unprocessable
from sandbox.schemas import AllocationIn, AllocationOut, CompensationOut, ReleaseIn
from sandbox.store import from_iso, to_iso
from sandbox.systems.call import Call, check_features, check_region


def _view(call: Call, row: sqlite3.Row) -> AllocationOut:
    requested_at = from_iso(row["requested_at"])
    ready: list[str] = []
    pending: list[str] = []
    for region in json.loads(row["regions"]):
        delay = scenarios.allocation_delay(row["app_id"], region, call.time_scale)
        (ready if call.now - requested_at >= delay else pending).append(region)
    return AllocationOut(
        allocation_id=row["allocation_id"], ready_regions=ready, pending_regions=pending
    )


def _other_app(order_id: str) -> Unprocessable:
    return Unprocessable(f"the allocation of order {order_id} is for another app", field="app_id")


def _live(call: Call, order_id: str) -> sqlite3.Row | None:
    return call.tx.one(
        "SELECT * FROM allocations WHERE order_id = ? AND released_at IS NULL", order_id
    )


def allocate_resources(call: Call, body: AllocationIn) -> AllocationOut:
    for region in body.regions:
        check_region(call.catalog, region, "regions")
    check_features(call.catalog, body.features)
    if scenarios.has_token(body.app_id, scenarios.Token.NOCAP):
        raise BusinessRefusal(
            ErrorType.CAPACITY_REFUSED,
            f"no compute capacity for app {body.app_id} in {', '.join(body.regions)}",
            field="app_id",
        )
    existing = _live(call, body.order_id)
    if existing is not None:
        return _view(call, existing)
    # Catalog order, no duplicates: every answer lists the regions the same way.
    wanted = set(body.regions)
    regions = [region for region in call.catalog.regions if region in wanted]
    allocation_id = f"alloc-{body.order_id}"
    call.tx.insert(
        "allocations",
        {
            "order_id": body.order_id,
            "allocation_id": allocation_id,
            "app_id": body.app_id,
            "regions": json.dumps(regions),
            "features": json.dumps(body.features),
            "requested_at": to_iso(call.now),
            "released_at": None,
        },
        replace=True,  # a released allocation may be requested again
    )
    call.effect(
        Effect.ALLOCATE_RESOURCES,
        body.order_id,
        allocation_id=allocation_id,
        app_id=body.app_id,
        regions=regions,
    )
    created = _live(call, body.order_id)
    if created is None:
        raise RuntimeError(f"allocation of {body.order_id!r} vanished inside its own transaction")
    return _view(call, created)


def check_allocation(call: Call, order_id: str, app_id: str | None) -> AllocationOut:
    row = _live(call, order_id)
    if row is None:
        raise NotFound(f"no live allocation for order {order_id}", field="order_id")
    if app_id is not None and row["app_id"] != app_id:
        raise _other_app(order_id)
    return _view(call, row)


def release_allocation(call: Call, order_id: str, body: ReleaseIn) -> CompensationOut:
    row = call.tx.one("SELECT * FROM allocations WHERE order_id = ?", order_id)
    if row is None:
        return CompensationOut(applied=False, detail=f"order {order_id} allocated nothing")
    if row["released_at"] is not None:
        return CompensationOut(applied=False, detail=f"already released at {row['released_at']}")
    if row["app_id"] != body.app_id:
        raise _other_app(order_id)
    call.tx.execute(
        "UPDATE allocations SET released_at = ? WHERE order_id = ?", to_iso(call.now), order_id
    )
    call.effect(
        Effect.RELEASE_ALLOCATION,
        order_id,
        allocation_id=row["allocation_id"],
        app_id=row["app_id"],
    )
    return CompensationOut(applied=True, detail=f"released {row['allocation_id']}")
