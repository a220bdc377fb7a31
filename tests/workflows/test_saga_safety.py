"""Issue 12 in the run, on the time-skipping server: the saga never wedges, never keeps money and
never applies a decision to another problem. Each test fails on the code before its fix.

The fake platform's steps are replaced one by one (`Scripted`) for the races: a publish that hangs
until released, a compensation the platform refuses for good, a poll answered after a cancel.
Histories go to `tests/histories/saga_safety/` when recorded (`UPGRADE_RECORD_HISTORIES=1
UPGRADE_RECORD_HISTORIES_TO=saga_safety`).
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain import steps
from domain.errors import ErrorType
from domain.models import CancelRequest
from domain.stages import Stage
from domain.status import EscalationReason, UpgradeStatus
from tests.support.fakes import FakePlatform
from tests.support.saga_runs import fake_worker, make_order, record_histories, send, start
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
        await env.sleep(steps_of)
    raise AssertionError(f"never saw {what}; last status: {await status_of(handle)!r}")


def ended(status: UpgradeStatus) -> bool:
    return status.stage.is_terminal


def steps_undone(status: UpgradeStatus) -> list[str]:
    return [c.step for c in status.compensations]


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
