"""Scheduler activities against the real sandbox app: allocate, check, release, no capacity."""

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import SchedulerActivities
from activities.http import PlatformClient
from domain.catalog import load_catalog
from domain.effects import Effect
from domain.errors import ErrorType
from domain.steps import (
    AllocationCheckInput,
    AllocationInput,
    ReleaseAllocationInput,
)
from tests.activities.helpers import FakeClock, effects

REGIONS = load_catalog().regions
WF = "upgrade-ORD-1"


def allocation_input(app_id: str = "app-1") -> AllocationInput:
    return AllocationInput(
        order_id="ORD-1",
        idempotency_key=f"{WF}:allocate",
        app_id=app_id,
        regions=REGIONS,
        features=("ai.conversational_multimodal",),
    )


async def test_allocate_check_release(
    platform: PlatformClient, env: ActivityEnvironment, clock: FakeClock
) -> None:
    scheduler = SchedulerActivities(platform)
    first = await env.run(scheduler.allocate_resources, allocation_input())
    assert first.allocation_id == "alloc-ORD-1"
    assert first.ready_regions == ()
    assert first.pending_regions == REGIONS
    clock.advance(minutes=20)
    ready = await env.run(
        scheduler.check_allocation, AllocationCheckInput(order_id="ORD-1", app_id="app-1")
    )
    assert (ready.ready_regions, ready.pending_regions) == (REGIONS, ())
    release = ReleaseAllocationInput(
        order_id="ORD-1", idempotency_key=f"{WF}:release", app_id="app-1"
    )
    assert (await env.run(scheduler.release_allocation, release)).applied is True
    assert await effects(platform) == [Effect.ALLOCATE_RESOURCES, Effect.RELEASE_ALLOCATION]


async def test_no_capacity_is_non_retryable(
    platform: PlatformClient, env: ActivityEnvironment
) -> None:
    scheduler = SchedulerActivities(platform)
    with pytest.raises(ApplicationError) as caught:
        await env.run(scheduler.allocate_resources, allocation_input("app-nocap"))
    assert caught.value.type == ErrorType.CAPACITY_REFUSED.value
    assert caught.value.non_retryable is True
    # Nothing was allocated, so the compensation has nothing to undo.
    released = await env.run(
        scheduler.release_allocation,
        ReleaseAllocationInput(order_id="ORD-1", idempotency_key=f"{WF}:rel", app_id="app-nocap"),
    )
    assert released.applied is False


async def test_check_allocation_of_nothing_is_a_contract_error(
    platform: PlatformClient, env: ActivityEnvironment
) -> None:
    with pytest.raises(ApplicationError) as caught:
        await env.run(
            SchedulerActivities(platform).check_allocation,
            AllocationCheckInput(order_id="ORD-9", app_id="app-1"),
        )
    assert caught.value.type == ErrorType.PLATFORM_CONTRACT.value
    assert caught.value.non_retryable is True
