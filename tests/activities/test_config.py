"""Config activities against the real sandbox app: media profile, publish, push, propagation, rollback."""

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import ConfigActivities
from activities.http import PlatformClient
from domain.catalog import load_catalog
from domain.effects import Effect
from domain.errors import ErrorType
from domain.steps import (
    MediaProfileInput,
    PropagationCheckInput,
    PublishConfigInput,
    PushConfigInput,
    RollbackConfigInput,
)
from tests.activities.helpers import FakeClock, effects

REGIONS = load_catalog().regions
WF = "upgrade-ORD-1"


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


async def test_a_push_superseded_by_another_orders_version(
    platform: PlatformClient, env: ActivityEnvironment, clock: FakeClock
) -> None:
    """Two orders of one app: B's version (which holds A) reached the region first; A's push of
    its older version is `superseded`, and A's check sees its order applied through B's."""
    config = ConfigActivities(platform)

    async def publish(order_id: str, plan: str) -> int:
        result = await env.run(
            config.publish_config_version,
            PublishConfigInput(order_id=order_id, idempotency_key=f"upgrade-{order_id}:publish",
                               app_id="app-1", plan=plan, features=(), change_kinds=("plan",)),
        )  # fmt: skip
        return result.version

    async def push(order_id: str, version: int) -> str:
        result = await env.run(
            config.push_config,
            PushConfigInput(order_id=order_id, idempotency_key=f"upgrade-{order_id}:push",
                            app_id="app-1", version=version, region="eu-west"),
        )  # fmt: skip
        return result.state

    a_version = await publish("ORD-A", "standard")
    b_version = await publish("ORD-B", "premium")
    assert await push("ORD-B", b_version) == "pushed"
    assert await push("ORD-A", a_version) == "superseded"
    clock.advance(minutes=23)
    check = PropagationCheckInput(order_id="ORD-A", app_id="app-1", version=a_version)
    assert "eu-west" in (await env.run(config.check_propagation, check)).applied
