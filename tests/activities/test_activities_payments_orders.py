"""Payment and order activities against the real sandbox app (in-process ASGI, hand-moved
clock), run inside a Temporal `ActivityEnvironment`."""

from decimal import Decimal
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import OrderActivities, PaymentActivities
from activities.http import PlatformClient
from domain.effects import Effect
from domain.errors import ErrorType
from domain.models import PaymentMethod, PaymentStatus
from domain.steps import PaymentStatusInput, ReconcileInput, RefundInput
from tests.activities.helpers import FakeClock


def status_input(transaction_id: str = "tx-1", **overrides: Any) -> PaymentStatusInput:
    fields: dict[str, Any] = {
        "order_id": "ORD-1",
        "transaction_id": transaction_id,
        "payment_method": PaymentMethod.ALIPAY,
        "amount": Decimal("600.00"),
        "currency": "CNY",
    }
    return PaymentStatusInput(**{**fields, **overrides})


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


async def ledger(platform: PlatformClient, order_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = await platform.get("/v1/sandbox/ledger", {"order_id": order_id})
    return entries


async def test_confirm_payment_status_pending_then_succeeded(
    platform: PlatformClient, env: ActivityEnvironment, clock: FakeClock
) -> None:
    payments = PaymentActivities(platform)
    first = await env.run(payments.confirm_payment_status, status_input())
    assert first.status is PaymentStatus.PENDING
    clock.advance(minutes=1)
    paid = await env.run(payments.confirm_payment_status, status_input())
    assert paid.status is PaymentStatus.SUCCEEDED
    assert (paid.amount, paid.currency) == (Decimal("600.00"), "CNY")


async def test_confirm_payment_status_reports_failure_and_short_payment(
    platform: PlatformClient, env: ActivityEnvironment, clock: FakeClock
) -> None:
    payments = PaymentActivities(platform)
    await env.run(payments.confirm_payment_status, status_input("tx-pay-fail"))
    await env.run(payments.confirm_payment_status, status_input("tx-pay-short"))
    clock.advance(minutes=1)
    failed = await env.run(payments.confirm_payment_status, status_input("tx-pay-fail"))
    assert failed.status is PaymentStatus.FAILED
    short = await env.run(payments.confirm_payment_status, status_input("tx-pay-short"))
    assert (short.status, short.amount) == (PaymentStatus.SUCCEEDED, Decimal("599.00"))


async def test_refund_payment_applies_once(
    platform: PlatformClient, env: ActivityEnvironment
) -> None:
    payments = PaymentActivities(platform)
    refund = RefundInput(
        order_id="ORD-1",
        idempotency_key="upgrade-ORD-1:refund",
        transaction_id="tx-1",
        payment_method=PaymentMethod.ALIPAY,
        amount=Decimal("600"),
        currency="CNY",
        reason="cancelled on request",
    )
    done = await env.run(payments.refund_payment, refund)
    assert done.applied is True
    assert "600.00 CNY" in done.detail
    # A retry (same key) answers the same and moves no more money.
    assert await env.run(payments.refund_payment, refund) == done
    assert [f"{e['system']}/{e['action']}" for e in await ledger(platform, "ORD-1")] == [
        Effect.REFUND_PAYMENT
    ]


async def test_refund_of_a_failed_payment_has_nothing_to_undo(
    platform: PlatformClient, env: ActivityEnvironment, clock: FakeClock
) -> None:
    payments = PaymentActivities(platform)
    await env.run(payments.confirm_payment_status, status_input("tx-pay-fail"))
    clock.advance(minutes=1)
    result = await env.run(
        payments.refund_payment,
        RefundInput(
            order_id="ORD-1",
            idempotency_key="upgrade-ORD-1:refund",
            transaction_id="tx-pay-fail",
            payment_method=PaymentMethod.ALIPAY,
            amount=Decimal("600.00"),
            currency="CNY",
            reason="payment failed",
        ),
    )
    assert result.applied is False
    assert await ledger(platform, "ORD-1") == []


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
