"""Regional config over HTTP: media profiles, publish, push, propagation by change kind, lag,
re-push, rollback, with a hand-moved clock."""

from typing import Any

from domain.catalog import load_catalog
from domain.effects import Effect
from sandbox import scenarios
from tests.sandbox.helpers import Api, FakeClock

REGIONS = list(load_catalog().regions)
VERSIONS = "/v1/config/apps/{}/versions"


def publish_body(order_id: str = "ORD-1", kinds: tuple[str, ...] = ("plan",)) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "plan": "premium",
        "features": [],
        "change_kinds": list(kinds),
        "media_profile_id": None,
    }


async def push(api: Api, app_id: str, version: int, region: str, key: str | None = None) -> str:
    body = await api.ok(
        f"{VERSIONS.format(app_id)}/{version}/push", {"order_id": "ORD-1", "region": region}, key
    )
    assert body["region"] == region
    state: str = body["state"]
    return state


async def test_media_profiles(api: Api) -> None:
    body = await api.ok(
        "/v1/media/profiles", {"order_id": "ORD-1", "app_id": "app-1", "profile": "fhd_1080p"}
    )
    assert body == {
        "profile_id": "mp-ORD-1-fhd_1080p",
        "resolution": "1920x1080",
        "max_bitrate_kbps": 4500,
    }
    unknown = await api.post(
        "/v1/media/profiles", {"order_id": "ORD-1", "app_id": "app-1", "profile": "8k"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["field"] == "profile"


async def test_versions_are_numbered_per_app(api: Api) -> None:
    assert await api.ok(VERSIONS.format("app-1"), publish_body()) == {
        "version": 1,
        "previous_version": 0,
    }
    assert await api.ok(VERSIONS.format("app-1"), publish_body("ORD-2")) == {
        "version": 2,
        "previous_version": 1,
    }
    assert (await api.ok(VERSIONS.format("app-2"), publish_body("ORD-3")))["version"] == 1


async def test_publish_checks_the_media_profile(api: Api) -> None:
    response = await api.post(
        VERSIONS.format("app-1"), {**publish_body(), "media_profile_id": "mp-nope"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "media_profile_id"


async def test_plan_change_propagates_within_22_5_minutes(api: Api, clock: FakeClock) -> None:
    await api.ok(VERSIONS.format("app-1"), publish_body())
    regions_url = f"{VERSIONS.format('app-1')}/1/regions"
    assert await api.get(regions_url) == {"applied": [], "pending": REGIONS}
    for region in REGIONS:
        assert await push(api, "app-1", 1, region) == "pushed"
    clock.advance(minutes=15)
    early = await api.get(regions_url)
    assert early["applied"] == [
        r
        for r in REGIONS
        if scenarios.propagation_delay("app-1", r, ["plan"], 1.0).total_seconds() <= 900
    ]
    clock.advance(minutes=7.5)
    assert await api.get(regions_url) == {"applied": REGIONS, "pending": []}


async def test_advanced_change_takes_fifty_minutes_or_more(api: Api, clock: FakeClock) -> None:
    await api.ok(VERSIONS.format("app-1"), publish_body(kinds=("plan", "advanced_permission")))
    await push(api, "app-1", 1, "eu-west")
    clock.advance(minutes=49)
    assert await push(api, "app-1", 1, "eu-west") == "pushed"
    clock.advance(minutes=16)
    assert await push(api, "app-1", 1, "eu-west") == "applied"


async def test_lag_token_converges_only_after_three_hours(api: Api, clock: FakeClock) -> None:
    await api.ok(VERSIONS.format("app-lag"), publish_body())
    for region in REGIONS:
        await push(api, "app-lag", 1, region)
    clock.advance(hours=2, minutes=59)
    assert (await api.get(f"{VERSIONS.format('app-lag')}/1/regions"))["applied"] == []
    clock.advance(minutes=1)
    assert (await api.get(f"{VERSIONS.format('app-lag')}/1/regions"))["pending"] == []


async def test_a_re_push_is_recorded_but_does_not_restart_the_clock(
    api: Api, clock: FakeClock
) -> None:
    await api.ok(VERSIONS.format("app-1"), publish_body())
    await push(api, "app-1", 1, "cn-east", key="wf:push:cn-east:1")
    clock.advance(minutes=10)
    await push(api, "app-1", 1, "cn-east", key="wf:push:cn-east:2")
    # Same key again: a replay, nothing new in the ledger.
    await push(api, "app-1", 1, "cn-east", key="wf:push:cn-east:2")
    clock.advance(minutes=12.5)
    # Applied 22.5 min after the *first* push, although the re-push was only 12.5 min ago.
    assert await push(api, "app-1", 1, "cn-east", key="wf:push:cn-east:3") == "applied"
    pushes = [e for e in await api.ledger("ORD-1") if e["action"] == Effect.PUSH_CONFIG.action]
    assert [e["key"] for e in pushes] == [f"wf:push:cn-east:{n}" for n in (1, 2, 3)]
    assert [e["detail"]["push"] for e in pushes] == [1, 2, 3]


async def test_push_to_an_unknown_version_or_region(api: Api) -> None:
    missing = await api.post(
        f"{VERSIONS.format('app-1')}/7/push", {"order_id": "ORD-1", "region": "cn-east"}
    )
    assert missing.status_code == 404
    await api.ok(VERSIONS.format("app-1"), publish_body())
    bad_region = await api.post(
        f"{VERSIONS.format('app-1')}/1/push", {"order_id": "ORD-1", "region": "moon"}
    )
    assert bad_region.status_code == 422


async def test_rollback_rolls_forward(api: Api) -> None:
    await api.ok(VERSIONS.format("app-1"), publish_body("ORD-0"))
    await api.ok(VERSIONS.format("app-1"), publish_body("ORD-1"))
    rollback = {"order_id": "ORD-1", "version": 2, "previous_version": 1}
    body = await api.ok("/v1/config/apps/app-1/rollback", rollback)
    assert body == {
        "applied": True,
        "detail": "rolled back version 2: every region moves forward to version 3, "
        "without order ORD-1",
    }
    assert (await api.ok("/v1/config/apps/app-1/rollback", rollback))["applied"] is False
    # The rolled-back order's late push is refused; its version takes no push from anyone.
    late = await api.post(
        f"{VERSIONS.format('app-1')}/2/push", {"order_id": "ORD-1", "region": "cn-east"}
    )
    assert late.status_code == 409
    assert late.json()["error"]["type"] == "OrderCompensated"
    pushed = await api.post(
        f"{VERSIONS.format('app-1')}/2/push", {"order_id": "ORD-0", "region": "cn-east"}
    )
    assert pushed.status_code == 422
    assert pushed.json()["error"]["type"] == "VersionRolledBack"
    # The next version comes after the roll-forward one, never from a captured previous one.
    assert await api.ok(VERSIONS.format("app-1"), publish_body("ORD-2")) == {
        "version": 4,
        "previous_version": 3,
    }
    [entry] = [e for e in await api.ledger("ORD-1") if e["action"] == "rollback_config"]
    assert entry["detail"]["new_version"] == 3
    assert entry["detail"]["pushed_to"] == REGIONS


async def test_rollback_never_touches_another_orders_version(api: Api) -> None:
    await api.ok(VERSIONS.format("app-1"), publish_body("ORD-0"))
    body = await api.ok(
        "/v1/config/apps/app-1/rollback", {"order_id": "ORD-1", "version": 1, "previous_version": 0}
    )
    assert body["applied"] is False
    missing = await api.ok(
        "/v1/config/apps/app-1/rollback", {"order_id": "ORD-1", "version": 9, "previous_version": 8}
    )
    assert missing["applied"] is False
    assert await api.effects("ORD-1") == []


async def test_what_every_region_serves_now(api: Api, clock: FakeClock) -> None:
    nothing: dict[str, Any] = {"version": 0, "plan": None, "features": []}
    assert await api.get("/v1/config/apps/app-new/regions/current") == {
        "app_id": "app-new",
        "regions": dict.fromkeys(REGIONS, nothing),
    }
    await api.ok(VERSIONS.format("app-1"), {**publish_body(), "features": ["video.hd_720p"]})
    await push(api, "app-1", 1, "eu-west")
    clock.advance(minutes=23)
    regions = (await api.get("/v1/config/apps/app-1/regions/current"))["regions"]
    assert regions["eu-west"] == {"version": 1, "plan": "premium", "features": ["video.hd_720p"]}
    assert regions["us-east"] == nothing


async def test_one_version_per_order(api: Api) -> None:
    first = await api.ok(VERSIONS.format("app-1"), publish_body())
    # The same order again under another key: the version it made, no second effect.
    assert await api.ok(VERSIONS.format("app-1"), publish_body()) == first
    assert await api.effects("ORD-1") == [Effect.PUBLISH_CONFIG_VERSION]
