"""Issue 12 in the run, on the time-skipping server: the saga never wedges, never keeps money and
never applies a decision to another problem. Each test fails on the code before its fix.

The fake platform's steps are replaced one by one (`Scripted`) for the races: a publish that hangs
until released, a compensation the platform refuses for good, a poll answered after a cancel.
Histories go to `tests/histories/saga_safety/` when recorded (`UPGRADE_RECORD_HISTORIES=1
UPGRADE_RECORD_HISTORIES_TO=saga_safety`).

Over ~300 lines on purpose: one section per finding of issue 12, in the order of its brief, so
that each finding's failing-before-the-fix tests read next to each other.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from client import upgrades
from domain import steps
from domain.errors import ErrorType
from domain.models import CancelRequest, PaymentNotice, PaymentStatus, Resolution
from domain.stages import Stage
from domain.status import EscalationReason, UpgradeStatus
from service.worker_setup import build_worker
from tests.support.fakes import FakePlatform
from tests.support.saga_runs import fake_worker, make_order, record_histories, send, start
from tests.support.servers import skip
from workflows.upgrade import UpgradeActivation

pytestmark = pytest.mark.asyncio


@dataclass
class Scripted(FakePlatform):
    """The fake platform with some activities replaced (by function name)."""

    replaced: dict[str, Callable[..., Any]] = field(default_factory=dict)

    def activities(self) -> list[Callable[..., Any]]:
        return [self.replaced.get(fn.__name__, fn) for fn in super().activities()]


async def status_of(handle: WorkflowHandle[Any, Any]) -> UpgradeStatus:
    return await handle.query(UpgradeActivation.status)


async def until(
    env: WorkflowEnvironment,
    handle: WorkflowHandle[Any, Any],
    holds: Callable[[UpgradeStatus], bool],
    what: str,
    *,
    steps_of: timedelta = timedelta(seconds=1),
) -> UpgradeStatus:
    """Let (skipped) time pass until the run's status satisfies `holds`; fail naming `what`."""
    for _ in range(300):
        status = await status_of(handle)
        if holds(status):
            return status
        await skip(env, steps_of)
    raise AssertionError(f"never saw {what}; last status: {await status_of(handle)!r}")


def ended(status: UpgradeStatus) -> bool:
    return status.stage.is_terminal


def steps_undone(status: UpgradeStatus) -> list[str]:
    return [c.step for c in status.compensations]


def plan_refusals(fake: Scripted, times: int) -> list[steps.ReconcileInput]:
    """`reconcile_order` refuses the account's plan `times` times, naming the field as the
    platform does (`activities.contract`), unless an operator approved past it."""
    calls: list[steps.ReconcileInput] = []

    @activity.defn(name=steps.Activity.RECONCILE_ORDER)
    async def reconcile_order(arg: steps.ReconcileInput) -> steps.ReconcileResult:
        fake._record(arg)
        calls.append(arg)
        if len(calls) <= times and "from_plan" not in arg.overrides:
            raise ApplicationError(
                "account acct-1 is on plan 'standard' (field: from_plan)",
                {"status": 409, "field": "from_plan", "type": ErrorType.RECONCILIATION_MISMATCH},
                type=ErrorType.RECONCILIATION_MISMATCH,
                non_retryable=True,
            )
        return steps.ReconcileResult(account_plan=arg.from_plan)

    fake.replaced["reconcile_order"] = reconcile_order
    return calls


# --- finding 8: a cancel while the config version is being published ---------------------------


def hanging_publish(fake: Scripted, started: asyncio.Event, release: asyncio.Event) -> None:
    @activity.defn(name=steps.Activity.PUBLISH_CONFIG_VERSION)
    async def publish_config_version(arg: steps.PublishConfigInput) -> steps.PublishConfigResult:
        fake._record(arg)
        started.set()
        await release.wait()
        return steps.PublishConfigResult(version=2, previous_version=1)

    fake.replaced["publish_config_version"] = publish_config_version


async def test_cancel_while_publish_is_in_flight_unwinds_and_refunds(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = Scripted()
    started, release = asyncio.Event(), asyncio.Event()
    hanging_publish(fake, started, release)
    order = make_order("ORD-CANCEL-PUBLISHING")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await asyncio.wait_for(started.wait(), 60)
        cancelling = asyncio.create_task(
            send(handle, UpgradeActivation.cancel, CancelRequest(reason="customer asked"))
        )
        await until(ts_env, handle, lambda s: s.cancel_requested is not None, "the cancel")
        release.set()
        final = await until(ts_env, handle, ended, "the run ending")
        ack = await asyncio.wait_for(cancelling, 60)
    await record_histories(ts_env.client, handle, "cancel-while-publishing")
    assert ack.result == "accepted" and final.stage is Stage.CANCELLED
    assert steps_undone(final) == ["rollback_config", "revert_billing_plan", "refund_payment"]
    assert fake.effects.count("refund") == 1


async def test_cancel_during_the_publish_back_off_unwinds_and_refunds(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = Scripted()
    failing = True

    @activity.defn(name=steps.Activity.PUBLISH_CONFIG_VERSION)
    async def publish_config_version(arg: steps.PublishConfigInput) -> steps.PublishConfigResult:
        fake._record(arg)
        if failing:
            raise ApplicationError("config service: 503")
        return steps.PublishConfigResult(version=2, previous_version=1)

    fake.replaced["publish_config_version"] = publish_config_version
    order = make_order("ORD-CANCEL-BACKOFF")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        # Five tries failed: the run records the error and backs off on a durable timer.
        await until(
            ts_env,
            handle,
            lambda s: s.stage is Stage.PROPAGATING and s.stages[-1].attempts >= 1,
            "a publish failure recorded",
            steps_of=timedelta(milliseconds=200),
        )
        failing = False
        ack = await send(handle, UpgradeActivation.cancel, CancelRequest(reason="stop"))
        final = await until(ts_env, handle, ended, "the run ending")
    await record_histories(ts_env.client, handle, "cancel-during-publish-back-off")
    assert ack.result == "accepted" and final.stage is Stage.CANCELLED
    assert steps_undone(final) == ["rollback_config", "revert_billing_plan", "refund_payment"]


# --- finding 9: a compensation refused for good, or stuck, never holds the refund --------------


async def test_an_undo_refused_for_good_is_recorded_escalated_and_the_refund_still_runs(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = Scripted(propagation_checks=None)

    @activity.defn(name=steps.Activity.REVERT_BILLING_PLAN)
    async def revert_billing_plan(arg: steps.RevertBillingInput) -> steps.CompensationResult:
        fake._record(arg)
        raise ApplicationError(
            "plan: billing refuses to revert a plan it never had",
            type=ErrorType.PLATFORM_CONTRACT,
            non_retryable=True,
        )

    fake.replaced["revert_billing_plan"] = revert_billing_plan
    order = make_order("ORD-UNDO-REFUSED")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await until(ts_env, handle, lambda s: s.stage is Stage.PROPAGATING, "propagating")
        cancelling = asyncio.create_task(
            send(handle, UpgradeActivation.cancel, CancelRequest(reason="customer asked"))
        )
        final = await until(ts_env, handle, ended, "the run ending")
        await asyncio.wait_for(cancelling, 60)
    await record_histories(ts_env.client, handle, "undo-refused-then-refund")
    assert final.stage is Stage.CANCELLED
    assert [(c.step, c.outcome) for c in final.compensations] == [
        ("rollback_config", "done"),
        ("revert_billing_plan", "refused"),
        ("refund_payment", "done"),
    ]
    assert fake.effects.count("refund") == 1
    stuck = [e for e in final.escalations if e.reason is EscalationReason.COMPENSATION_STUCK]
    assert len(stuck) == 1 and stuck[0].closed_at is None  # a person must undo it: left open
    assert "close_ticket:TCK-compensation_stuck" not in fake.names()


async def test_an_undo_still_failing_after_the_bound_escalates_and_does_not_hold_the_refund(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = Scripted(propagation_checks=None)
    platform_down = True

    @activity.defn(name=steps.Activity.ROLLBACK_CONFIG)
    async def rollback_config(arg: steps.RollbackConfigInput) -> steps.CompensationResult:
        fake._record(arg)
        if platform_down:
            raise ApplicationError("config service: 503")
        return steps.CompensationResult(applied=True)

    fake.replaced["rollback_config"] = rollback_config
    order = make_order("ORD-UNDO-STUCK")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await until(ts_env, handle, lambda s: s.stage is Stage.PROPAGATING, "propagating")
        cancelling = asyncio.create_task(
            send(handle, UpgradeActivation.cancel, CancelRequest(reason="customer asked"))
        )
        # The rollback fails on and on; past the bound the refund goes ahead without it.
        during = await until(
            ts_env,
            handle,
            lambda s: "refund_payment" in steps_undone(s),
            "the refund while the rollback still fails",
            steps_of=timedelta(minutes=1),
        )
        assert not cancelling.done() and during.stage is Stage.COMPENSATING
        assert [e.reason for e in during.escalations] == [EscalationReason.COMPENSATION_STUCK]
        platform_down = False
        final = await until(ts_env, handle, ended, "the run ending", steps_of=timedelta(minutes=1))
        await asyncio.wait_for(cancelling, 60)
    await record_histories(ts_env.client, handle, "undo-stuck-refund-goes-on")
    assert final.stage is Stage.CANCELLED
    assert [(c.step, c.outcome) for c in final.compensations] == [
        ("rollback_config", "stuck"),
        ("revert_billing_plan", "done"),
        ("refund_payment", "done"),
        ("rollback_config", "done"),
    ]
    assert final.escalations[0].closed_at is not None  # it finished: the ticket is closed


# --- finding 10: a decision is bound to the problem it answers ---------------------------------


def capturing_escalate(fake: Scripted, diagnoses: list[steps.Diagnosis]) -> None:
    @activity.defn(name=steps.Activity.ESCALATE)
    async def escalate(arg: steps.EscalateInput) -> steps.EscalateResult:
        fake._record(arg, arg.reason)
        diagnoses.append(arg.diagnosis)
        return steps.EscalateResult(ticket_id=f"TCK-{arg.reason}")

    fake.replaced["escalate"] = escalate


async def rejected_naming(handle: WorkflowHandle[Any, Any], resolution: Resolution) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await send(handle, UpgradeActivation.resolve, resolution)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.message


async def test_a_decision_answers_only_the_problem_it_names_and_a_repeat_is_a_duplicate(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = Scripted()
    reconciled = plan_refusals(fake, 2)
    diagnoses: list[steps.Diagnosis] = []
    capturing_escalate(fake, diagnoses)
    order = make_order("ORD-DECISION-IDS")
    first, second = "reconciliation_mismatch-1", "reconciliation_mismatch-2"
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        waiting = await until(ts_env, handle, lambda s: s.attention is not None, "a refusal")
        assert waiting.attention is not None and waiting.attention.id == first
        assert waiting.attention_id == first
        retry = Resolution(action="retry", attention_id=first)
        assert (await send(handle, UpgradeActivation.resolve, retry)).result == "accepted"
        again = await until(
            ts_env, handle, lambda s: s.attention_id == second, "the second refusal"
        )
        assert again.stage is Stage.NEEDS_ATTENTION
        # The same retry re-sent (after a timeout, say) is recognised, not applied to the second.
        repeat = await send(handle, UpgradeActivation.resolve, retry)
        assert repeat.result == "duplicate"
        assert (await status_of(handle)).attention_id == second
        stale = await rejected_naming(handle, Resolution(action="approve", attention_id=first))
        assert stale.startswith("attention_id:") and "already decided" in stale
        other = await rejected_naming(
            handle, Resolution(action="approve", attention_id="capacity_refused-9")
        )
        assert other.startswith("attention_id:") and second in other
        approve = Resolution(action="approve", attention_id=second)
        assert (await send(handle, UpgradeActivation.resolve, approve)).result == "accepted"
        final = await until(ts_env, handle, ended, "the run ending")
    await record_histories(ts_env.client, handle, "decision-ids-retry-repeat-approve")
    assert final.stage is Stage.ACTIVE
    assert [r.overrides for r in reconciled] == [(), (), ("from_plan",)]
    assert [d.attention_id for d in diagnoses] == [first]  # one ticket per reason: the first


async def test_a_decision_dropped_by_a_concurrent_cancel_is_never_answered_accepted(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = Scripted()
    plan_refusals(fake, 1)
    order = make_order("ORD-DECISION-DROPPED")
    # No workflow cache: no sticky queue, so the next worker gets the run's next task at once.
    async with build_worker(
        ts_env.client, task_queue=task_queue, activities=fake.activities(), max_cached_workflows=0
    ):
        handle = await start(ts_env.client, order, task_queue)
        await until(ts_env, handle, lambda s: s.attention is not None, "a refusal")
    # No worker: both messages wait at the server and reach the run in one workflow task, the
    # decision first; the cancel then ends the run before the saga takes the decision.
    resolving = asyncio.create_task(
        send(handle, UpgradeActivation.resolve, Resolution(action="approve"))
    )
    await asyncio.sleep(0.5)
    cancelling = asyncio.create_task(
        send(handle, UpgradeActivation.cancel, CancelRequest(reason="customer asked"))
    )
    await asyncio.sleep(0.5)
    async with fake_worker(ts_env.client, task_queue, fake):
        ack = await asyncio.wait_for(cancelling, 60)
        with pytest.raises(WorkflowUpdateFailedError) as dropped:
            await asyncio.wait_for(resolving, 60)
        final = await until(ts_env, handle, ended, "the run ending")
    assert ack.result == "accepted" and final.stage is Stage.CANCELLED
    cause = dropped.value.cause
    assert isinstance(cause, ApplicationError) and "not applied" in cause.message
    assert "update_billing_plan" not in fake.names()


async def test_the_cli_and_ingress_client_fill_in_the_problem_waiting_now(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = Scripted(capacity_refusals=1)
    order = make_order("ORD-DECISION-FILLED", features=("ai.conversational_multimodal",))
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await until(ts_env, handle, lambda s: s.attention is not None, "a refusal")
        bare = Resolution(action="retry")
        bound = await upgrades.bound_to_waiting(ts_env.client, order.order_id, bare)
        assert bound.attention_id == "capacity_refused-1"
        named = Resolution(action="retry", attention_id="capacity_refused-7")
        assert await upgrades.bound_to_waiting(ts_env.client, order.order_id, named) == named
        ack = await upgrades.resolve(ts_env.client, order.order_id, bare)
        assert ack.result == "accepted"
        # The same decision, re-sent with the id it was bound to: recognised, not applied again.
        assert (await send(handle, UpgradeActivation.resolve, bound)).result == "duplicate"
        final = await until(ts_env, handle, ended, "the run ending")
    assert final.stage is Stage.ACTIVE
    assert fake.names().count("allocate_resources") == 2


# --- finding 5: a cancel that races a payment poll keeps what the poll saw ---------------------


async def test_a_cancel_racing_a_poll_that_sees_the_payment_refunds_it(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = Scripted(block_polls=True, payment_statuses=[PaymentStatus.SUCCEEDED])
    order = make_order("ORD-CANCEL-WHILE-PAYING")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await asyncio.wait_for(fake.poll_started.wait(), 60)
        cancelling = asyncio.create_task(
            send(handle, UpgradeActivation.cancel, CancelRequest(reason="customer asked"))
        )
        await until(ts_env, handle, lambda s: s.cancel_requested is not None, "the cancel")
        fake.release_polls.set()  # the channel answers: the payment succeeded
        final = await until(ts_env, handle, ended, "the run ending")
        ack = await asyncio.wait_for(cancelling, 60)
    await record_histories(ts_env.client, handle, "cancel-racing-a-successful-poll")
    assert ack.result == "accepted" and final.stage is Stage.CANCELLED
    assert final.payment.status == PaymentStatus.SUCCEEDED
    assert steps_undone(final) == ["refund_payment"]
    assert fake.effects == ["refund"]


# --- finding 1: `succeeded` after `failed` on the same transaction is money, not a duplicate ---


def notice_of(order: Any, status: PaymentStatus) -> PaymentNotice:
    return PaymentNotice(
        order_id=order.order_id,
        transaction_id=order.transaction_id,
        amount=order.amount,
        status=status,
    )


async def test_succeeded_after_failed_in_the_run_is_recorded_refunded_and_ticketed(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = Scripted(payment_statuses=[PaymentStatus.PENDING])
    order = make_order("ORD-FAILED-THEN-PAID")
    async with build_worker(
        ts_env.client, task_queue=task_queue, activities=fake.activities(), max_cached_workflows=0
    ):
        handle = await start(ts_env.client, order, task_queue)
        await until(ts_env, handle, lambda s: s.payment.polls >= 1, "a first poll")
    # No worker: both notices reach the run in one workflow task, before the saga acts on either.
    failed = asyncio.create_task(
        send(handle, UpgradeActivation.confirm_payment, notice_of(order, PaymentStatus.FAILED))
    )
    await asyncio.sleep(0.5)
    succeeded = asyncio.create_task(
        send(handle, UpgradeActivation.confirm_payment, notice_of(order, PaymentStatus.SUCCEEDED))
    )
    await asyncio.sleep(0.5)
    async with fake_worker(ts_env.client, task_queue, fake):
        acks = [await asyncio.wait_for(failed, 60), await asyncio.wait_for(succeeded, 60)]
        final = await until(ts_env, handle, ended, "the run ending")
    await record_histories(ts_env.client, handle, "succeeded-after-failed-refunded")
    assert [a.result for a in acks] == ["accepted", "accepted"]
    assert final.stage is Stage.FAILED and final.payment.succeeded_after_failed
    assert steps_undone(final) == ["refund_payment"] and fake.effects == ["refund"]
    assert [e.reason for e in final.escalations] == [EscalationReason.UNAPPLIED_PAYMENT]


async def test_succeeded_after_failed_while_the_run_ends_is_refused_as_ended(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = Scripted(payment_statuses=[PaymentStatus.PENDING])
    telling, told = asyncio.Event(), asyncio.Event()

    @activity.defn(name=steps.Activity.NOTIFY_CUSTOMER)
    async def notify_customer(arg: steps.NotifyInput) -> None:
        fake._record(arg, arg.outcome)
        telling.set()
        await told.wait()

    fake.replaced["notify_customer"] = notify_customer
    order = make_order("ORD-FAILED-THEN-PAID-LATE")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await send(
            handle, UpgradeActivation.confirm_payment, notice_of(order, PaymentStatus.FAILED)
        )
        await asyncio.wait_for(telling.wait(), 60)  # the run is ending: telling the customer
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await send(
                handle,
                UpgradeActivation.confirm_payment,
                notice_of(order, PaymentStatus.SUCCEEDED),
            )
        told.set()
        final = await until(ts_env, handle, ended, "the run ending")
    cause = refused.value.cause
    # Refused naming `order_id` ("has ended"): the ingress hands such a notice to custody.
    assert isinstance(cause, ApplicationError) and cause.details[0] == "order_id"
    assert cause.message.startswith("order_id: the upgrade has ended (failed)")
    assert final.stage is Stage.FAILED and "refund" not in fake.effects


# --- finding 4: before deciding "unpaid", the run reads the channel once more -------------------


async def test_a_cancel_before_payment_reads_the_channel_once_more_and_refunds_what_it_finds(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    # The first poll sees nothing; the customer pays while the run waits for the next one.
    fake = Scripted(payment_statuses=[PaymentStatus.PENDING, PaymentStatus.SUCCEEDED])
    order = make_order("ORD-CANCEL-UNPAID-BUT-PAID")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await until(ts_env, handle, lambda s: s.payment.polls >= 1, "a first poll")
        ack = await send(handle, UpgradeActivation.cancel, CancelRequest(reason="changed mind"))
        final = await until(ts_env, handle, ended, "the run ending")
    await record_histories(ts_env.client, handle, "cancel-unpaid-reads-once-more-refunds")
    assert ack.result == "accepted" and final.stage is Stage.CANCELLED
    assert fake.names().count("confirm_payment_status") == 2
    assert final.payment.status == PaymentStatus.SUCCEEDED
    assert steps_undone(final) == ["refund_payment"] and fake.effects == ["refund"]


async def test_a_cancel_of_an_unpaid_run_that_stays_unpaid_refunds_nothing(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = Scripted(payment_statuses=[PaymentStatus.PENDING])
    order = make_order("ORD-CANCEL-UNPAID")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        await until(ts_env, handle, lambda s: s.payment.polls >= 1, "a first poll")
        await send(handle, UpgradeActivation.cancel, CancelRequest(reason="changed mind"))
        final = await until(ts_env, handle, ended, "the run ending")
    await record_histories(ts_env.client, handle, "cancel-unpaid-reads-once-more-nothing")
    assert final.stage is Stage.CANCELLED and final.compensations == []
    assert fake.names().count("confirm_payment_status") == 2 and fake.effects == []


# --- finding 7: approve overrides only the check it answers; a surplus is refunded ------------


async def test_approve_of_an_overpayment_still_reconciles_and_refunds_the_surplus(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    # Paid 100 more than the order; the account is also on another plan than the order says.
    fake = Scripted(paid_amount_delta=Decimal("100.00"))
    reconciled = plan_refusals(fake, 1)
    refunds: list[steps.RefundInput] = []
    real = {fn.__name__: fn for fn in FakePlatform.activities(fake)}

    @activity.defn(name=steps.Activity.REFUND_PAYMENT)
    async def refund_payment(arg: steps.RefundInput) -> steps.CompensationResult:
        refunds.append(arg)
        result: steps.CompensationResult = await real["refund_payment"](arg)
        return result

    fake.replaced["refund_payment"] = refund_payment
    order = make_order("ORD-OVERPAID-APPROVED")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue)
        amount = await until(ts_env, handle, lambda s: s.attention is not None, "the amount")
        assert amount.attention is not None and amount.attention.detail.startswith("amount:")
        approve = Resolution(action="approve", note="overpaid: keep the order, refund the rest")
        await send(handle, UpgradeActivation.resolve, approve)
        # The platform's checks still run: the plan disagrees, a new problem to decide.
        plan = await until(
            ts_env, handle, lambda s: s.attention_id == "reconciliation_mismatch-2", "the plan"
        )
        assert plan.attention is not None and "approve" in plan.attention.allowed
        await send(handle, UpgradeActivation.resolve, Resolution(action="approve"))
        final = await until(ts_env, handle, ended, "the run ending")
    await record_histories(ts_env.client, handle, "overpaid-approved-reconciles-refunds-surplus")
    assert final.stage is Stage.ACTIVE
    assert [r.overrides for r in reconciled] == [(), ("from_plan",)]
    assert [(r.amount, r.idempotency_key.rsplit(":", 1)[-1]) for r in refunds] == [
        (Decimal("100.00"), "refund_surplus")
    ]
    assert [(c.step, c.outcome) for c in final.compensations] == [("refund_surplus", "done")]


async def test_expiry_reads_the_channel_once_more_and_refunds_a_late_payment_with_a_ticket(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = Scripted()
    expires_at: list[datetime] = []

    @activity.defn(name=steps.Activity.CONFIRM_PAYMENT_STATUS)
    async def confirm_payment_status(arg: steps.PaymentStatusInput) -> steps.PaymentStatusResult:
        fake._record(arg)
        # Every poll sees nothing; the read at the expiry (the alarm has rung) finds the payment
        # the customer made at the last minute.
        scheduled = activity.info().current_attempt_scheduled_time
        late = bool(expires_at) and scheduled >= expires_at[0]
        status = PaymentStatus.SUCCEEDED if late else PaymentStatus.PENDING
        return steps.PaymentStatusResult(status=status, amount=arg.amount, currency=arg.currency)

    fake.replaced["confirm_payment_status"] = confirm_payment_status
    order = make_order("ORD-EXPIRED-BUT-PAID", method="bank_card")
    async with fake_worker(ts_env.client, task_queue, fake):
        handle = await start(ts_env.client, order, task_queue, history_limit=200)
        first = await until(ts_env, handle, lambda s: s.payment.expires_at is not None, "armed")
        assert first.payment.expires_at is not None
        expires_at.append(first.payment.expires_at)
        final = await until(ts_env, handle, ended, "the expiry", steps_of=timedelta(hours=6))
    await record_histories(ts_env.client, handle, "expiry-reads-once-more-refunds")
    assert final.stage is Stage.EXPIRED and final.payment.status == PaymentStatus.SUCCEEDED
    assert steps_undone(final) == ["refund_payment"] and fake.effects == ["refund"]
    reasons = [e.reason for e in final.escalations]
    assert reasons == [EscalationReason.PAYMENT_OVERDUE, EscalationReason.UNAPPLIED_PAYMENT]
