"""Billing, scheduler and config activities against the real sandbox app, including their
compensations with and without something to undo."""

from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import BillingActivities, ConfigActivities, SchedulerActivities
from activities.http import PlatformClient
from domain.catalog import load_catalog
from domain.effects import Effect
from domain.errors import ErrorType
from domain.steps import (
    AllocationCheckInput,
    AllocationInput,
    BillingInput,
    MediaProfileInput,
    PropagationCheckInput,
    PublishConfigInput,
    PushConfigInput,
    ReleaseAllocationInput,
    RevertBillingInput,
    RollbackConfigInput,
)
from tests.activities.helpers import FakeClock

REGIONS = load_catalog().regions
WF = "upgrade-ORD-1"


async def effects(platform: PlatformClient, order_id: str = "ORD-1") -> list[str]:
    entries: list[dict[str, Any]] = await platform.get("/v1/sandbox/ledger", {"order_id": order_id})
    return [f"{e['system']}/{e['action']}" for e in entries]


async def test_update_and_revert_billing(
    platform: PlatformClient, env: ActivityEnvironment
) -> None:
    billing = BillingActivities(platform)
    update = BillingInput(
        order_id="ORD-1",
        idempotency_key=f"{WF}:billing",
        account_id="acct-1",
        app_id="app-1",
        from_plan="basic",
        to_plan="premium",
        features=("api.traffic_boost",),
    )
    result = await env.run(billing.update_billing_plan, update)
    assert (result.previous_plan, result.plan) == ("basic", "premium")
    assert result.quota_rules == "monthly:premium+api.traffic_boost"
    assert await env.run(billing.update_billing_plan, update) == result

    revert = RevertBillingInput(
        order_id="ORD-1", idempotency_key=f"{WF}:revert_billing", account_id="acct-1"
    )
    undone = await env.run(billing.revert_billing_plan, revert)
    assert undone.applied is True
    # A second compensation under a new key finds nothing left to undo.
    again = await env.run(
        billing.revert_billing_plan,
        revert.model_copy(update={"idempotency_key": f"{WF}:revert_billing:2"}),
    )
    assert again.applied is False
    assert await effects(platform) == [Effect.UPDATE_BILLING_PLAN, Effect.REVERT_BILLING_PLAN]


async def test_revert_billing_with_nothing_to_undo(
    platform: PlatformClient, env: ActivityEnvironment
) -> None:
    result = await env.run(
        BillingActivities(platform).revert_billing_plan,
        RevertBillingInput(order_id="ORD-1", idempotency_key=f"{WF}:rb", account_id="acct-1"),
    )
    assert result.applied is False
    assert await effects(platform) == []


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


async def test_media_publish_push_propagate_rollback(
    platform: PlatformClient, env: ActivityEnvironment, clock: FakeClock
) -> None:
    config = ConfigActivities(platform)
    profile = await env.run(
        config.generate_media_profile,
        MediaProfileInput(
            order_id="ORD-1", idempotency_key=f"{WF}:media", app_id="app-1", profile="uhd_4k"
        ),
    )
    assert (profile.resolution, profile.max_bitrate_kbps) == ("3840x2160", 16000)

    published = await env.run(
        config.publish_config_version,
        PublishConfigInput(
            order_id="ORD-1",
            idempotency_key=f"{WF}:publish",
            app_id="app-1",
            plan="premium",
            features=("video.uhd_4k",),
            change_kinds=("plan", "media_quality"),
            media_profile_id=profile.profile_id,
        ),
    )
    assert (published.version, published.previous_version) == (1, 0)

    for region in REGIONS:
        pushed = await env.run(
            config.push_config,
            PushConfigInput(
                order_id="ORD-1",
                idempotency_key=f"{WF}:push:{region}:1",
                app_id="app-1",
                version=1,
                region=region,
            ),
        )
        assert (pushed.region, pushed.state) == (region, "pushed")

    check = PropagationCheckInput(order_id="ORD-1", app_id="app-1", version=1)
    assert (await env.run(config.check_propagation, check)).applied == ()
    clock.advance(minutes=22.5)
    done = await env.run(config.check_propagation, check)
    assert (done.applied, done.pending) == (REGIONS, ())

    rollback = RollbackConfigInput(
        order_id="ORD-1",
        idempotency_key=f"{WF}:rollback",
        app_id="app-1",
        version=1,
        previous_version=0,
    )
    assert (await env.run(config.rollback_config, rollback)).applied is True
    assert (await env.run(config.rollback_config, rollback)).applied is True  # replayed answer
    assert (await effects(platform)).count(Effect.ROLLBACK_CONFIG) == 1


async def test_push_of_an_unknown_region_is_a_contract_error(
    platform: PlatformClient, env: ActivityEnvironment
) -> None:
    config = ConfigActivities(platform)
    await env.run(
        config.publish_config_version,
        PublishConfigInput(
            order_id="ORD-1",
            idempotency_key=f"{WF}:publish",
            app_id="app-1",
            plan="premium",
            features=(),
            change_kinds=("plan",),
        ),
    )
    with pytest.raises(ApplicationError) as caught:
        await env.run(
            config.push_config,
            PushConfigInput(
                order_id="ORD-1",
                idempotency_key=f"{WF}:push:x",
                app_id="app-1",
                version=1,
                region="atlantis",
            ),
        )
    assert caught.value.type == ErrorType.PLATFORM_CONTRACT.value
    assert "region" in caught.value.message
