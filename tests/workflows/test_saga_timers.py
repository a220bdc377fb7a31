"""The saga on the time-skipping server with fake activities: timers, escalation, compensation,
operator decisions and duplicate notices."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import WorkflowEnvironment

from domain.models import CancelRequest, PaymentNotice, PaymentStatus, Resolution
from domain.stages import Stage
from domain.status import EscalationReason, UpgradeStatus
from tests.support.fakes import FakePlatform
from tests.support.saga_runs import fake_worker, make_order, record_histories, send, start
from tests.support.servers import skip
from workflows.upgrade import UpgradeActivation

pytestmark = pytest.mark.asyncio


async def status_of(handle: WorkflowHandle[Any, Any]) -> UpgradeStatus:
    return await handle.query(UpgradeActivation.status)


async def result_of(handle: WorkflowHandle[Any, Any]) -> UpgradeStatus:
    result = await handle.result()
    assert isinstance(result, UpgradeStatus)
    return result


async def wait_for_stage(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], stage: Stage
) -> None:
    for _ in range(200):
        if (await status_of(handle)).stage is stage:
            return
        await env.sleep(timedelta(seconds=1))
    raise AssertionError(f"never reached {stage}; at {(await status_of(handle)).stage}")


async def test_plan_upgrade_reaches_active_in_order(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePlatform()
    order = make_order("ORD-HAPPY")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        final = await result_of(handle)
    await record_histories(ts_env.client, handle, "plan-active")
    assert final.stage is Stage.ACTIVE
    assert not final.escalated
    assert [r.state for r in final.regions] == ["applied"] * 8
    names = fake.names()
    order_of = [
        "confirm_payment_status",
        "reconcile_order",
        "update_billing_plan",
        "publish_config_version",
        "check_propagation",
        "activate_entitlements",
        "invalidate_console_cache",
        "notify_customer:active",
    ]
    assert [n for n in names if n in order_of] == order_of
    assert names.count("push_config") == 8
    assert final.eta.basis == "activated"
    assert [s.stage for s in final.stages][-1] is Stage.ACTIVE


async def test_activation_sla_escalates_once_at_two_hours_and_closes(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    # Propagation lags: regions report applied only after ~150 min of checks (90 s apart).
    fake = FakePlatform(propagation_checks=100)
    order = make_order("ORD-SLA")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await skip(ts_env, timedelta(minutes=118))
        before = await status_of(handle)
        assert before.stage is Stage.PROPAGATING
        assert before.escalations == []
        await skip(ts_env, timedelta(minutes=4))
        during = await status_of(handle)
        assert [e.reason for e in during.escalations] == [EscalationReason.ACTIVATION_SLA]
        assert during.escalated and during.stage is Stage.PROPAGATING
        assert during.escalations[0].closed_at is None
        final = await result_of(handle)
    await record_histories(ts_env.client, handle, "sla-escalated-then-active")
    assert final.stage is Stage.ACTIVE
    assert len(final.escalations) == 1
    assert final.escalations[0].closed_at is not None
    assert fake.names().count("escalate:activation_sla") == 1
    assert fake.names().count("close_ticket:TCK-activation_sla") == 1
    # The laggards were re-pushed after the 30 min window.
    assert max(r.pushes for r in final.regions) >= 2


async def test_payment_overdue_then_expiry(ts_env: WorkflowEnvironment, task_queue: str) -> None:
    fake = FakePlatform(payment_statuses=[PaymentStatus.PENDING])
    order = make_order("ORD-EXPIRE", method="bank_card")
    async with fake_worker(ts_env.client, task_queue, fake):
        # A small history limit forces continue-as-new while waiting, as days of polling would.
        handle = await start(ts_env.client, order, task_queue, history_limit=200)
        await skip(ts_env, timedelta(minutes=115))
        assert (await status_of(handle)).escalations == []
        await skip(ts_env, timedelta(minutes=10))
        overdue = await status_of(handle)
        assert [e.reason for e in overdue.escalations] == [EscalationReason.PAYMENT_OVERDUE]
        assert overdue.stage is Stage.AWAITING_PAYMENT
        final = await result_of(handle)  # follows the continued runs
    await record_histories(ts_env.client, handle, "payment-overdue-then-expiry")
    assert final.stage is Stage.EXPIRED
    assert final.escalations[0].closed_at is not None
    assert final.started_at + timedelta(days=7) <= final.finished_at  # type: ignore[operator]
    assert "refund_payment" not in fake.names()
    assert fake.names().count("escalate:payment_overdue") == 1
    assert "notify_customer:expired" in fake.names()


async def test_capacity_refused_then_reject_compensates_in_reverse(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePlatform(capacity_refusals=1)
    order = make_order("ORD-NOCAP", features=("ai.conversational_multimodal",))
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await wait_for_stage(ts_env, handle, Stage.NEEDS_ATTENTION)
        waiting = await status_of(handle)
        assert waiting.attention is not None
        assert waiting.attention.reason is EscalationReason.CAPACITY_REFUSED
        assert [e.reason for e in waiting.escalations] == [EscalationReason.CAPACITY_REFUSED]
        await send(handle, UpgradeActivation.resolve, Resolution(action="reject", note="no GPUs"))
        final = await result_of(handle)
    await record_histories(ts_env.client, handle, "capacity-refused-then-reject")
    assert final.stage is Stage.FAILED
    assert final.reason == "rejected by operator: no GPUs"
    assert [c.step for c in final.compensations] == [
        "release_allocation",
        "revert_billing_plan",
        "refund_payment",
    ]
    names = fake.names()
    assert (
        names.index("release_allocation")
        < names.index("revert_billing_plan")
        < names.index("refund_payment")
    )
    assert final.escalations[0].closed_at is not None


async def test_reconciliation_mismatch_retry_then_active(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePlatform(reconcile_refusals=1)
    order = make_order("ORD-RETRY")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await wait_for_stage(ts_env, handle, Stage.NEEDS_ATTENTION)
        ack = await send(handle, UpgradeActivation.resolve, Resolution(action="retry"))
        assert ack.result == "accepted"
        final = await result_of(handle)
    await record_histories(ts_env.client, handle, "mismatch-retry-then-active")
    assert final.stage is Stage.ACTIVE
    assert fake.names().count("reconcile_order") == 2
    assert [e.reason for e in final.escalations] == [EscalationReason.RECONCILIATION_MISMATCH]
    assert final.escalations[0].closed_at is not None


async def test_short_payment_is_a_reconciliation_mismatch_and_reject_refunds(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    from decimal import Decimal

    fake = FakePlatform(paid_amount_delta=Decimal("-1.00"))
    order = make_order("ORD-SHORT")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await wait_for_stage(ts_env, handle, Stage.NEEDS_ATTENTION)
        status = await status_of(handle)
        assert status.attention is not None and status.attention.detail.startswith("amount:")
        await send(handle, UpgradeActivation.resolve, Resolution(action="reject"))
        final = await result_of(handle)
    await record_histories(ts_env.client, handle, "short-payment-reject")
    assert final.stage is Stage.FAILED
    assert [c.step for c in final.compensations] == ["refund_payment"]
    assert "reconcile_order" not in fake.names()


async def test_cancel_while_propagating_rolls_back_in_reverse(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePlatform(propagation_checks=None)
    order = make_order("ORD-CANCEL")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await wait_for_stage(ts_env, handle, Stage.PROPAGATING)
        ack = await send(handle, UpgradeActivation.cancel, CancelRequest(reason="customer asked"))
        assert ack.result == "accepted" and ack.stage == Stage.CANCELLED
        final = await result_of(handle)
    await record_histories(ts_env.client, handle, "cancel-while-propagating")
    assert final.stage is Stage.CANCELLED and final.reason == "customer asked"
    assert [c.step for c in final.compensations] == [
        "rollback_config",
        "revert_billing_plan",
        "refund_payment",
    ]
    assert "activate_entitlements" not in fake.names()


async def test_duplicate_payment_notices_change_nothing(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePlatform(payment_statuses=[PaymentStatus.PENDING])
    order = make_order("ORD-DUP")
    notice = PaymentNotice(
        order_id=order.order_id, transaction_id=order.transaction_id, amount=order.amount
    )
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        acks = [
            await handle.execute_update(UpgradeActivation.confirm_payment, notice) for _ in range(3)
        ]
        final = await result_of(handle)
    await record_histories(ts_env.client, handle, "duplicate-notices")
    assert [a.result for a in acks] == ["accepted", "duplicate", "duplicate"]
    assert final.stage is Stage.ACTIVE
    assert final.payment.via == "notification" and final.payment.notices == 1
    assert fake.effects.count("billing") == 1


async def test_bad_messages_are_rejected_naming_the_field(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePlatform(payment_statuses=[PaymentStatus.PENDING])
    order = make_order("ORD-BAD")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        wrong_amount = PaymentNotice(
            order_id=order.order_id, transaction_id=order.transaction_id, amount="1.00"
        )
        with pytest.raises(WorkflowUpdateFailedError) as rejected:
            await handle.execute_update(UpgradeActivation.confirm_payment, wrong_amount)
        cause = rejected.value.cause
        assert isinstance(cause, ApplicationError) and cause.message.startswith("amount:")
        with pytest.raises(WorkflowUpdateFailedError) as not_now:
            await send(handle, UpgradeActivation.resolve, Resolution(action="approve"))
        assert "awaiting_payment" in str(not_now.value.cause)
        status = await status_of(handle)
        assert status.payment.notices == 0 and status.stage is Stage.AWAITING_PAYMENT
        await send(handle, UpgradeActivation.cancel, CancelRequest())
        final = await result_of(handle)
    await record_histories(ts_env.client, handle, "bad-messages-then-cancel")
    assert final.stage is Stage.CANCELLED
    assert final.compensations == []  # nothing was done, nothing paid: nothing to undo


async def test_cancel_during_a_running_activity_is_not_mistaken_for_a_failed_call(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePlatform(block_polls=True, payment_statuses=[PaymentStatus.PENDING])
    order = make_order("ORD-CANCEL-INFLIGHT")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await asyncio.wait_for(fake.poll_started.wait(), 30)
        cancelling = asyncio.create_task(
            send(handle, UpgradeActivation.cancel, CancelRequest(reason="stop"))
        )
        while (await status_of(handle)).cancel_requested is None:
            await asyncio.sleep(0.05)
        # The run waits for the call in flight before unwinding; then it ends cancelled.
        assert not cancelling.done()
        fake.release_polls.set()
        ack = await cancelling
        final = await result_of(handle)
    await record_histories(ts_env.client, handle, "cancel-during-activity")
    assert ack.stage == Stage.CANCELLED
    assert final.stage is Stage.CANCELLED and final.reason == "stop"
    assert final.stages[0].attempts == 0  # the cancelled poll is not recorded as an error


async def test_cancel_through_temporal_still_compensates(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePlatform(propagation_checks=None)
    order = make_order("ORD-TEMPORAL-CANCEL")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await wait_for_stage(ts_env, handle, Stage.PROPAGATING)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as ended:
            await handle.result()
    await record_histories(ts_env.client, handle, "temporal-cancel-while-propagating")
    assert isinstance(ended.value.cause, CancelledError)
    names = fake.names()
    assert (
        names.index("rollback_config")
        < names.index("revert_billing_plan")
        < names.index("refund_payment")
        < names.index("notify_customer:cancelled")
    )
