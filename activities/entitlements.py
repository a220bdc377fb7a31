"""Entitlement and console activities: switch the new features on (and off, the compensation),
and invalidate the console caches that would otherwise keep showing "pending activation"."""

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel
from temporalio import activity

from activities.contract import parse, path
from domain.steps import (
    Activity,
    CacheInvalidationInput,
    CompensationResult,
    EntitlementsInput,
    EntitlementsResult,
)

if TYPE_CHECKING:
    from activities.http import PlatformClient


class _Invalidated(BaseModel):
    invalidated: Literal[True]


class EntitlementActivities:
    def __init__(self, client: "PlatformClient") -> None:
        self._platform = client

    @activity.defn(name=Activity.ACTIVATE_ENTITLEMENTS)
    async def activate_entitlements(self, inp: EntitlementsInput) -> EntitlementsResult:
        route = path("/v1/entitlements/apps/{}/activate", inp.app_id)
        data = await self._platform.post(
            route,
            {
                "order_id": inp.order_id,
                "account_id": inp.account_id,
                "plan": inp.plan,
                "features": list(inp.features),
            },
            inp.idempotency_key,
        )
        result = parse(EntitlementsResult, data, route)
        activity.logger.info("order %s: %d entitlements active", inp.order_id, len(result.active))
        return result

    @activity.defn(name=Activity.DEACTIVATE_ENTITLEMENTS)
    async def deactivate_entitlements(self, inp: EntitlementsInput) -> CompensationResult:
        # Only the order's own grant is switched off; the platform knows what it granted.
        route = path("/v1/entitlements/apps/{}/deactivate", inp.app_id)
        data = await self._platform.post(
            route,
            {"order_id": inp.order_id, "account_id": inp.account_id},
            inp.idempotency_key,
        )
        result = parse(CompensationResult, data, route)
        activity.logger.info(
            "order %s: entitlements deactivation %s",
            inp.order_id,
            "done" if result.applied else "not needed",
        )
        return result

    @activity.defn(name=Activity.INVALIDATE_CONSOLE_CACHE)
    async def invalidate_console_cache(self, inp: CacheInvalidationInput) -> None:
        route = "/v1/console/cache/invalidate"
        data = await self._platform.post(
            route,
            {"order_id": inp.order_id, "account_id": inp.account_id, "app_id": inp.app_id},
            inp.idempotency_key,
        )
        parse(_Invalidated, data, route)
        activity.logger.info("order %s: console cache invalidated", inp.order_id)
