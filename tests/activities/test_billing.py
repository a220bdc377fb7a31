"""Billing activities against the real sandbox app: update and revert."""

from temporalio.testing import ActivityEnvironment

from activities import BillingActivities
from activities.http import PlatformClient
from domain.effects import Effect
from domain.steps import (
    BillingInput,
    RevertBillingInput,
)
from tests.activities.helpers import effects

WF = "upgrade-ORD-1"


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
