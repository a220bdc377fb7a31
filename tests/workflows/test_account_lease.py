"""Orders of one account apply their changes one at a time (the account lease), on the
time-skipping server with fake activities: paid together, a holder that compensates, is cancelled
through Temporal or terminated, a waiting order cancelled, a worker restarted mid-hold."""

import uuid
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from client.account_lease import account_lease_state
from domain.lease import AccountLeaseState, lease_workflow_id
from domain.models import CancelRequest, UpgradeOrder
from domain.stages import Stage
from domain.status import UpgradeStatus
from service.worker_setup import build_worker
from tests.support.fakes import FakePlatform
from tests.support.polling import eventually
from tests.support.saga_runs import fake_worker, make_order, record_histories, send, start
from workflows.upgrade import UpgradeActivation

pytestmark = pytest.mark.asyncio

# What an order does to the account, from its reconciliation to its last undo.
ACCOUNT_STEPS = {
    "reconcile_order",
    "update_billing_plan",
    "publish_config_version",
    "activate_entitlements",
    "rollback_config",
    "revert_billing_plan",
    "deactivate_entitlements",
}


def orders_of_one_account(*names: str) -> list[UpgradeOrder]:
    account = f"acct-lease-{uuid.uuid4().hex[:8]}"
    return [make_order(f"ORD-{name}-{account[-8:]}", account_id=account) for name in names]


def account_steps(fake: FakePlatform) -> list[tuple[str, str]]:
    """(order's workflow id, step) of every call that touches the account, in call order."""
    steps = []
    for name, key in fake.calls:
        step = name.partition(":")[0]
        if step in ACCOUNT_STEPS:
            steps.append((key.partition(":")[0], step))
    return steps


def assert_not_interleaved(fake: FakePlatform, first: str, then: str) -> None:
    """Every account step of `first` comes before any account step of `then`."""
    owners = [owner for owner, _ in account_steps(fake)]
    assert first in owners and then in owners, owners
    last_of_first = max(i for i, owner in enumerate(owners) if owner == first)
    first_of_then = min(i for i, owner in enumerate(owners) if owner == then)
    assert last_of_first < first_of_then, account_steps(fake)


async def status_of(handle: WorkflowHandle[Any, Any]) -> UpgradeStatus:
    status = await handle.query(UpgradeActivation.status)
    assert isinstance(status, UpgradeStatus)
    return status


async def final_of(handle: WorkflowHandle[Any, Any]) -> UpgradeStatus:
    result = await handle.result()
    assert isinstance(result, UpgradeStatus)
    return result


async def lease_state(client: Client, account_id: str) -> AccountLeaseState:
    state = await account_lease_state(client, account_id)  # what `starter.py account` reads
    assert state is not None
    return state


async def lease_entity(client: Client, account_id: str) -> WorkflowHandle[Any, Any]:
    """The account's entity, by its first run (for recording its history)."""
    described = await client.get_workflow_handle(lease_workflow_id(account_id)).describe()
    return client.get_workflow_handle(
        described.id, run_id=described.run_id, first_execution_run_id=described.run_id
    )


async def waiting(handle: WorkflowHandle[Any, Any]) -> UpgradeStatus:
    return await eventually(
        lambda: status_of(handle),
        lambda s: s.waiting_for is not None and "in line" in s.waiting_for,
        what=f"{handle.id} to wait for its account",
    )


async def hold_then_wait(
    client: Client, task_queue: str, holder: UpgradeOrder, waiter: UpgradeOrder
) -> tuple[WorkflowHandle[Any, Any], WorkflowHandle[Any, Any], UpgradeStatus]:
    """Start `holder` and let it reach propagation (it holds the account: the fake platform never
    settles until the test says so), then start `waiter` and return once it waits in line."""
    a = await start(client, holder, task_queue)
    await eventually(
        lambda: status_of(a), lambda s: s.stage is Stage.PROPAGATING, what="A propagating"
    )
    b = await start(client, waiter, task_queue)
    return a, b, await waiting(b)


async def test_two_orders_paid_together_apply_one_after_the_other(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePlatform(propagation_checks=3)
    first, second = orders_of_one_account("A", "B")
    async with fake_worker(ts_env.client, task_queue, fake):
        a = await start(ts_env.client, first, task_queue)
        b = await start(ts_env.client, second, task_queue)
        finals = [await final_of(a), await final_of(b)]
        state = await lease_state(ts_env.client, first.account_id)  # a query needs a worker
    await record_histories(ts_env.client, a, "lease-paid-together-first")
    await record_histories(ts_env.client, b, "lease-paid-together-second")
    entity = await lease_entity(ts_env.client, first.account_id)
    await record_histories(ts_env.client, entity, "lease-entity-two-grants")
    assert [f.stage for f in finals] == [Stage.ACTIVE, Stage.ACTIVE]
    owners = [owner for owner, _ in account_steps(fake)]
    holder, waiter = (a.id, b.id) if owners[0] == a.id else (b.id, a.id)
    assert_not_interleaved(fake, holder, waiter)
    assert state.holder is None and state.queue == () and state.next_token == 3


async def test_a_waiting_order_says_what_it_waits_for(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePlatform(propagation_checks=None)  # the holder never finishes propagating
    first, second = orders_of_one_account("HOLD", "WAIT")
    async with fake_worker(ts_env.client, task_queue, fake):
        a, b, seen = await hold_then_wait(ts_env.client, task_queue, first, second)
        assert seen.stage is Stage.RECONCILING
        assert seen.waiting_for is not None
        assert first.order_id in seen.waiting_for and "next in line" in seen.waiting_for
        assert seen.eta.latest is None and first.order_id in seen.eta.basis
        state = await lease_state(ts_env.client, first.account_id)
        assert state.holder is not None and state.holder.run.order_id == first.order_id
        assert [q.run.order_id for q in state.queue] == [second.order_id]
        # The holder is cancelled: it compensates while B still waits, then B goes.
        await send(a, UpgradeActivation.cancel, CancelRequest(reason="customer asked"))
        fake.propagation_checks = 0
        final_b = await final_of(b)
    final_a = await final_of(a)
    assert final_a.stage is Stage.CANCELLED and final_b.stage is Stage.ACTIVE
    assert_not_interleaved(fake, a.id, b.id)
    assert final_b.waiting_for is None


async def test_a_cancelled_waiting_order_leaves_the_queue(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePlatform(propagation_checks=None)
    first, second, third = orders_of_one_account("H", "W1", "W2")
    async with fake_worker(ts_env.client, task_queue, fake):
        a, b, _ = await hold_then_wait(ts_env.client, task_queue, first, second)
        c = await start(ts_env.client, third, task_queue)
        await waiting(c)
        ack = await send(b, UpgradeActivation.cancel, CancelRequest(reason="changed my mind"))
        assert ack.stage == Stage.CANCELLED
        final_b = await final_of(b)
        state = await eventually(
            lambda: lease_state(ts_env.client, first.account_id),
            lambda s: [q.run.order_id for q in s.queue] == [third.order_id],
            what="B to leave the queue",
        )
        assert state.holder is not None and state.holder.run.order_id == first.order_id
        fake.propagation_checks = 0
        finals = [await final_of(a), await final_of(c)]
    assert [f.stage for f in finals] == [Stage.ACTIVE, Stage.ACTIVE]
    # B was paid, never touched the account, and was refunded.
    assert final_b.stage is Stage.CANCELLED
    assert [c.step for c in final_b.compensations] == ["refund_payment"]
    assert b.id not in [owner for owner, _ in account_steps(fake)]
    assert_not_interleaved(fake, a.id, c.id)


async def test_a_holder_cancelled_through_temporal_releases_after_compensating(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePlatform(propagation_checks=None)
    first, second = orders_of_one_account("TC", "NEXT")
    async with fake_worker(ts_env.client, task_queue, fake):
        a, b, _ = await hold_then_wait(ts_env.client, task_queue, first, second)
        await a.cancel()
        with pytest.raises(WorkflowFailureError):
            await a.result()
        fake.propagation_checks = 0
        final_b = await final_of(b)
    await record_histories(ts_env.client, a, "lease-holder-cancelled-through-temporal")
    assert final_b.stage is Stage.ACTIVE
    assert_not_interleaved(fake, a.id, b.id)


async def test_a_terminated_holder_loses_the_account(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePlatform(propagation_checks=None)
    first, second = orders_of_one_account("TERM", "AFTER")
    async with fake_worker(ts_env.client, task_queue, fake):
        a, b, _ = await hold_then_wait(ts_env.client, task_queue, first, second)
        # Terminated: no code of A runs again, nothing releases the account but the entity's
        # watch on its holder.
        await a.terminate(reason="operator terminated the run")
        fake.propagation_checks = 0
        final_b = await final_of(b)
        state = await lease_state(ts_env.client, first.account_id)
    entity = await lease_entity(ts_env.client, first.account_id)
    await record_histories(ts_env.client, entity, "lease-entity-holder-terminated")
    assert final_b.stage is Stage.ACTIVE
    assert state.holder is None and state.next_token == 3


async def test_the_hold_survives_a_worker_restart(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    fake = FakePlatform(propagation_checks=None)
    first, second = orders_of_one_account("CRASH", "LATER")
    # No workflow cache: the test server does not hand a dead worker's sticky tasks on to the
    # next worker, which a real server does after a few seconds.
    activities = fake.activities()
    async with build_worker(
        ts_env.client, task_queue=task_queue, activities=activities, max_cached_workflows=0
    ):
        a, b, _ = await hold_then_wait(ts_env.client, task_queue, first, second)
    # No worker: nothing moves. A new worker (a restarted process) picks every run up again.
    fake.propagation_checks = 0
    async with fake_worker(ts_env.client, task_queue, fake):
        # One result at a time: each wait unlocks time skipping and locks it again when done.
        finals = [await final_of(a), await final_of(b)]
    assert [f.stage for f in finals] == [Stage.ACTIVE, Stage.ACTIVE]
    assert_not_interleaved(fake, a.id, b.id)
