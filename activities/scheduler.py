"""Resource scheduler activities: reserve compute for a `capability` change, watch it become
ready per region, release it (the compensation)."""

from typing import TYPE_CHECKING

from temporalio import activity

from activities.contract import parse, path
from activities.waiting import recheck_until
from domain.steps import (
    Activity,
    AllocationCheckInput,
    AllocationInput,
    AllocationResult,
    CompensationResult,
    ReleaseAllocationInput,
)

if TYPE_CHECKING:
    from activities.http import PlatformClient


class SchedulerActivities:
    def __init__(self, client: "PlatformClient") -> None:
        self._platform = client

    @activity.defn(name=Activity.ALLOCATE_RESOURCES)
    async def allocate_resources(self, inp: AllocationInput) -> AllocationResult:
        """Reserve compute; no capacity raises a non-retryable `CapacityRefused`."""
        route = "/v1/scheduler/allocations"
        data = await self._platform.post(
            route,
            {
                "order_id": inp.order_id,
                "app_id": inp.app_id,
                "regions": list(inp.regions),
                "features": list(inp.features),
            },
            inp.idempotency_key,
        )
        result = parse(AllocationResult, data, route)
        activity.logger.info(
            "order %s: allocation %s requested (%d/%d regions ready)",
            inp.order_id,
            result.allocation_id,
            len(result.ready_regions),
            len(result.ready_regions) + len(result.pending_regions),
        )
        return result

    @activity.defn(name=Activity.CHECK_ALLOCATION)
    async def check_allocation(self, inp: AllocationCheckInput) -> AllocationResult:
        route = path("/v1/scheduler/allocations/{}", inp.order_id)

        async def read() -> AllocationResult:
            data = await self._platform.get(route, {"app_id": inp.app_id})
            return parse(AllocationResult, data, route)

        return await recheck_until(read, lambda r: not r.pending_regions, inp.wait_s)

    @activity.defn(name=Activity.RELEASE_ALLOCATION)
    async def release_allocation(self, inp: ReleaseAllocationInput) -> CompensationResult:
        route = path("/v1/scheduler/allocations/{}/release", inp.order_id)
        data = await self._platform.post(route, {"app_id": inp.app_id}, inp.idempotency_key)
        result = parse(CompensationResult, data, route)
        activity.logger.info(
            "order %s: allocation release %s",
            inp.order_id,
            "done" if result.applied else "not needed",
        )
        return result
