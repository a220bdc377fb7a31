"""Billing activities against the real sandbox app: update and revert, and the optional guards
(account version, fencing token) of the platform contract."""

import json

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import BillingActivities
from activities.http import PlatformClient
from domain.effects import Effect
from domain.steps import (
    BillingInput,
    RevertBillingInput,
)
from tests.activities.helpers import effects, mock_client

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


def update_input(order_id: str = "ORD-1", **guards: int) -> BillingInput:
    return BillingInput(
        order_id=order_id,
        idempotency_key=f"upgrade-{order_id}:billing",
        account_id="acct-1",
        app_id="app-1",
        from_plan="basic",
        to_plan="premium",
        features=(),
        **guards,
    )


async def test_the_guards_are_sent_only_when_set(env: ActivityEnvironment) -> None:
    sent: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(
            200,
            json={"previous_plan": "basic", "plan": "premium", "quota_rules": "monthly:premium"},
        )

    billing = BillingActivities(mock_client(handler))
    await env.run(billing.update_billing_plan, update_input())
    await env.run(billing.update_billing_plan, update_input(account_version=3, fencing_token=7))
    # A run of today's workflow sends exactly the body it always sent.
    assert "account_version" not in sent[0] and "fencing_token" not in sent[0]
    assert (sent[1]["account_version"], sent[1]["fencing_token"]) == (3, 7)


async def test_a_stale_version_is_a_typed_non_retryable_refusal(
    platform: PlatformClient, env: ActivityEnvironment
) -> None:
    billing = BillingActivities(platform)
    await env.run(billing.update_billing_plan, update_input("ORD-1", account_version=0))
    with pytest.raises(ApplicationError) as refused:
        await env.run(billing.update_billing_plan, update_input("ORD-2", account_version=0))
    assert refused.value.type == "StaleAccountVersion"
    assert refused.value.non_retryable is True


async def test_a_late_update_after_its_revert_is_a_typed_non_retryable_refusal(
    platform: PlatformClient, env: ActivityEnvironment
) -> None:
    billing = BillingActivities(platform)
    revert = RevertBillingInput(order_id="ORD-1", idempotency_key="rb", account_id="acct-1")
    await env.run(billing.revert_billing_plan, revert)
    with pytest.raises(ApplicationError) as refused:
        await env.run(billing.update_billing_plan, update_input())
    assert refused.value.type == "OrderCompensated"
    assert refused.value.non_retryable is True
    assert await effects(platform) == []
