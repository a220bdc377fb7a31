"""Payment activities against the real sandbox app: the channel's word on a payment, and refunds."""

from decimal import Decimal
from typing import Any

from temporalio.testing import ActivityEnvironment

from activities import PaymentActivities
from activities.http import PlatformClient
from domain.effects import Effect
from domain.models import PaymentMethod, PaymentStatus
from domain.steps import PaymentStatusInput, RefundInput
from tests.activities.helpers import FakeClock, ledger


def status_input(transaction_id: str = "tx-1", **overrides: Any) -> PaymentStatusInput:
    fields: dict[str, Any] = {
        "order_id": "ORD-1",
        "transaction_id": transaction_id,
        "payment_method": PaymentMethod.ALIPAY,
        "amount": Decimal("600.00"),
        "currency": "CNY",
    }
    return PaymentStatusInput(**{**fields, **overrides})


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
