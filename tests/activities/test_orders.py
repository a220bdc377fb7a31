"""The order activity against the real sandbox app: reconciliation and its refusals."""

from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import OrderActivities
from activities.http import PlatformClient
from domain.effects import Effect
from domain.errors import ErrorType
from domain.steps import ReconcileInput
from tests.activities.helpers import ledger


def reconcile_input(**overrides: Any) -> ReconcileInput:
    fields: dict[str, Any] = {
        "order_id": "ORD-1",
        "idempotency_key": "upgrade-ORD-1:reconcile",
        "account_id": "acct-1",
        "app_id": "app-1",
        "from_plan": "basic",
        "transaction_id": "tx-1",
    }
    return ReconcileInput(**{**fields, **overrides})


async def test_reconcile_order(platform: PlatformClient, env: ActivityEnvironment) -> None:
    orders = OrderActivities(platform)
    result = await env.run(orders.reconcile_order, reconcile_input())
    assert result.account_plan == "basic"
    entries = await ledger(platform, "ORD-1")
    assert [(e["action"], e["key"]) for e in entries] == [
        (Effect.RECONCILE_ORDER.action, "upgrade-ORD-1:reconcile")
    ]


@pytest.mark.parametrize(
    ("setup", "overrides", "field"),
    [
        (None, {"account_id": "acct-stale-1"}, "from_plan"),
        ({"account_id": "acct-2", "transaction_id": "tx-0"}, {}, "app_id"),
        ({"app_id": "app-0"}, {}, "transaction_id"),
    ],
)
async def test_reconcile_mismatch_is_non_retryable_and_names_the_field(
    platform: PlatformClient,
    env: ActivityEnvironment,
    setup: dict[str, str] | None,
    overrides: dict[str, str],
    field: str,
) -> None:
    orders = OrderActivities(platform)
    if setup is not None:
        # Another order got there first (owns the app, or claimed the transaction).
        other = reconcile_input(
            order_id="ORD-0", idempotency_key="upgrade-ORD-0:reconcile", **setup
        )
        await env.run(orders.reconcile_order, other)
    with pytest.raises(ApplicationError) as caught:
        await env.run(orders.reconcile_order, reconcile_input(**overrides))
    assert caught.value.type == ErrorType.RECONCILIATION_MISMATCH.value
    assert caught.value.non_retryable is True
    assert f"field: {field}" in caught.value.message
    assert caught.value.details[0]["field"] == field
    assert await ledger(platform, "ORD-1") == []
