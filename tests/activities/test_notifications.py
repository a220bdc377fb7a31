"""Notification activities against the real sandbox app: notify, client refresh, contract errors."""

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import NotificationActivities
from activities.http import PlatformClient
from domain.effects import Effect
from domain.errors import ErrorType
from domain.steps import (
    ClientRefreshInput,
    NotifyInput,
)
from tests.activities.helpers import ledger

WF = "upgrade-ORD-1"


async def test_notify_and_refresh(platform: PlatformClient, env: ActivityEnvironment) -> None:
    acts = NotificationActivities(platform)
    notify = NotifyInput(
        order_id="ORD-1",
        idempotency_key=f"{WF}:notify",
        account_id="acct-1",
        app_id="app-1",
        outcome="active",
        message="Premium is active in every region.",
    )
    await env.run(acts.notify_customer, notify)
    await env.run(acts.notify_customer, notify)  # a retry: replayed, not sent twice
    await env.run(
        acts.request_client_refresh,
        ClientRefreshInput(
            order_id="ORD-1",
            idempotency_key=f"{WF}:refresh",
            app_id="app-1",
            media_profile_id=None,
        ),
    )
    assert [f"{e['system']}/{e['action']}" for e in await ledger(platform)] == [
        Effect.NOTIFY_CUSTOMER,
        Effect.REQUEST_CLIENT_REFRESH,
    ]


async def test_invalid_body_is_a_contract_error(
    platform: PlatformClient, env: ActivityEnvironment
) -> None:
    acts = NotificationActivities(platform)
    bad = NotifyInput(
        order_id="ORD-1",
        idempotency_key=f"{WF}:notify",
        account_id="acct-1",
        app_id="app-1",
        outcome="active",
        message="x" * 5000,  # longer than the platform accepts
    )
    with pytest.raises(ApplicationError) as caught:
        await env.run(acts.notify_customer, bad)
    assert caught.value.type == ErrorType.PLATFORM_CONTRACT.value
    assert caught.value.non_retryable is True
