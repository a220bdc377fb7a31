"""Media profile and regional config activities: generate the media profile, publish a config
version, push it to a region, check propagation, roll the version back (the compensation), and
read the config service's current apply latency (evidence for the ETA)."""

from typing import TYPE_CHECKING

from temporalio import activity

from activities.contract import parse, path
from activities.waiting import recheck_until
from domain.apply_latency import ApplyLatency, ApplyLatencyInput
from domain.steps import (
    Activity,
    CompensationResult,
    MediaProfileInput,
    MediaProfileResult,
    PropagationCheckInput,
    PropagationCheckResult,
    PublishConfigInput,
    PublishConfigResult,
    PushConfigInput,
    PushConfigResult,
    RollbackConfigInput,
)

if TYPE_CHECKING:
    from activities.http import PlatformClient


class ConfigActivities:
    def __init__(self, client: "PlatformClient") -> None:
        self._platform = client

    @activity.defn(name=Activity.GENERATE_MEDIA_PROFILE)
    async def generate_media_profile(self, inp: MediaProfileInput) -> MediaProfileResult:
        route = "/v1/media/profiles"
        data = await self._platform.post(
            route,
            {"order_id": inp.order_id, "app_id": inp.app_id, "profile": inp.profile},
            inp.idempotency_key,
        )
        result = parse(MediaProfileResult, data, route)
        activity.logger.info("order %s: media profile %s", inp.order_id, result.profile_id)
        return result

    @activity.defn(name=Activity.PUBLISH_CONFIG_VERSION)
    async def publish_config_version(self, inp: PublishConfigInput) -> PublishConfigResult:
        route = path("/v1/config/apps/{}/versions", inp.app_id)
        data = await self._platform.post(
            route,
            {
                "order_id": inp.order_id,
                "plan": inp.plan,
                "features": list(inp.features),
                "change_kinds": list(inp.change_kinds),
                "media_profile_id": inp.media_profile_id,
            },
            inp.idempotency_key,
        )
        result = parse(PublishConfigResult, data, route)
        activity.logger.info(
            "order %s: config version %d published (previous %d)",
            inp.order_id,
            result.version,
            result.previous_version,
        )
        return result

    @activity.defn(name=Activity.PUSH_CONFIG)
    async def push_config(self, inp: PushConfigInput) -> PushConfigResult:
        """Push a version to one region. A re-push (new key) nudges a lagging region; the
        region's propagation clock keeps running from the first push."""
        route = path("/v1/config/apps/{}/versions/{}/push", inp.app_id, inp.version)
        data = await self._platform.post(
            route, {"order_id": inp.order_id, "region": inp.region}, inp.idempotency_key
        )
        result = parse(PushConfigResult, data, route)
        activity.logger.info(
            "order %s: config v%d %s in %s", inp.order_id, inp.version, result.state, inp.region
        )
        return result

    @activity.defn(name=Activity.CHECK_PROPAGATION)
    async def check_propagation(self, inp: PropagationCheckInput) -> PropagationCheckResult:
        route = path("/v1/config/apps/{}/versions/{}/regions", inp.app_id, inp.version)
        known = set(inp.known_applied)

        async def read() -> PropagationCheckResult:
            return parse(PropagationCheckResult, await self._platform.get(route), route)

        return await recheck_until(
            read, lambda r: not r.pending or not set(r.applied) <= known, inp.wait_s
        )

    @activity.defn(name=Activity.ROLLBACK_CONFIG)
    async def rollback_config(self, inp: RollbackConfigInput) -> CompensationResult:
        route = path("/v1/config/apps/{}/rollback", inp.app_id)
        data = await self._platform.post(
            route,
            {
                "order_id": inp.order_id,
                "version": inp.version,
                "previous_version": inp.previous_version,
            },
            inp.idempotency_key,
        )
        result = parse(CompensationResult, data, route)
        activity.logger.info(
            "order %s: config rollback %s", inp.order_id, "done" if result.applied else "not needed"
        )
        return result

    @activity.defn(name=Activity.READ_APPLY_LATENCY)
    async def read_apply_latency(self, inp: ApplyLatencyInput) -> ApplyLatency:
        """The platform's current apply latency per change kind (a read: the saga treats a
        failure as "no evidence")."""
        route = "/v1/config/apply-latency"
        answer = await self._platform.get(route, {"within_s": inp.within_s})
        return parse(ApplyLatency, answer, route)
