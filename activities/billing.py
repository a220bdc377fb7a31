"""Billing activities: switch the account's plan and quota rules, and revert that switch."""

from typing import TYPE_CHECKING

from temporalio import activity

from activities.contract import parse, path
from domain.steps import (
    Activity,
    BillingInput,
    BillingResult,
    CompensationResult,
    RevertBillingInput,
)

if TYPE_CHECKING:
    from activities.http import PlatformClient


class BillingActivities:
    def __init__(self, client: "PlatformClient") -> None:
        self._platform = client

    @activity.defn(name=Activity.UPDATE_BILLING_PLAN)
    async def update_billing_plan(self, inp: BillingInput) -> BillingResult:
        route = path("/v1/billing/accounts/{}/plan", inp.account_id)
        body: dict[str, object] = {
            "order_id": inp.order_id,
            "app_id": inp.app_id,
            "from_plan": inp.from_plan,
            "to_plan": inp.to_plan,
            "features": list(inp.features),
        }
        # The guards go only when the workflow set them: a run of today's code sends none.
        if inp.account_version is not None:
            body["account_version"] = inp.account_version
        if inp.fencing_token is not None:
            body["fencing_token"] = inp.fencing_token
        data = await self._platform.post(route, body, inp.idempotency_key)
        result = parse(BillingResult, data, route)
        activity.logger.info(
            "order %s: billing plan %s -> %s", inp.order_id, result.previous_plan, result.plan
        )
        return result

    @activity.defn(name=Activity.REVERT_BILLING_PLAN)
    async def revert_billing_plan(self, inp: RevertBillingInput) -> CompensationResult:
        route = path("/v1/billing/accounts/{}/plan/revert", inp.account_id)
        data = await self._platform.post(route, {"order_id": inp.order_id}, inp.idempotency_key)
        result = parse(CompensationResult, data, route)
        activity.logger.info(
            "order %s: billing revert %s", inp.order_id, "done" if result.applied else "not needed"
        )
        return result
