"""The account's entity grants in payment order, not in the order the asks arrive.

Each paid run asks for its account from an activity; asks of orders paid close together race, so
an order paid later can ask first. The entity (`workflows.account_lease`) is driven directly here,
on the time-skipping server: stand-in runs that only take their grant, and requests signalled to
the entity with the `paid_at` each run would carry. Before the patch `lease-queue-by-payment`
the second grant went to the first ask; and the queue, the positions told and the Web UI's
"waiting, in payment order" said arrival order.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.lease import LeaseActivities
from domain.lease import (
    GRANTED_SIGNAL,
    LEASE_WORKFLOW,
    QUEUED_SIGNAL,
    RELEASE_SIGNAL,
    REQUEST_SIGNAL,
    AccountLeaseState,
    LeaseGrant,
    LeaseQueued,
    LeaseRelease,
    LeaseRequest,
    RunRef,
    in_payment_order,
    lease_workflow_id,
)
from service.worker_setup import workflow_runner
from tests.support.polling import eventually
from tests.support.saga_runs import record_histories
from workflows.account_lease import AccountLease

PAID = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@workflow.defn(name="lease-order-test-run")
class StandInRun:
    """A paid run reduced to what the entity talks to: it takes its grant and its place."""

    def __init__(self) -> None:
        self.grant: LeaseGrant | None = None
        self.place: int | None = None

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal(name=GRANTED_SIGNAL)
    def granted(self, grant: LeaseGrant) -> None:
        self.grant = grant

    @workflow.signal(name=QUEUED_SIGNAL)
    def queued(self, queued: LeaseQueued) -> None:
        self.place = queued.position

    @workflow.query
    def token(self) -> int | None:
        return None if self.grant is None else self.grant.token


def request(account: str, run: RunRef, paid_minutes: int) -> LeaseRequest:
    return LeaseRequest(account_id=account, run=run, paid_at=PAID + timedelta(minutes=paid_minutes))


async def stand_in(client: Client, task_queue: str, name: str) -> tuple[RunRef, Any]:
    handle = await client.start_workflow(
        StandInRun.run, id=f"lease-order-{name}-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    assert handle.result_run_id is not None
    return RunRef(order_id=name, workflow_id=handle.id, run_id=handle.result_run_id), handle


async def holder_of(entity: WorkflowHandle[Any, Any]) -> str | None:
    state = await entity.query(AccountLease.state)
    assert isinstance(state, AccountLeaseState)
    return None if state.holder is None else state.holder.run.order_id


async def test_a_later_ask_of_an_earlier_payment_is_granted_first(
    ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = ts_env.client
    account = f"acct-order-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[AccountLease, StandInRun],
        activities=[LeaseActivities().request_account_lease, LeaseActivities().run_closed],
        workflow_runner=workflow_runner(),
    ):
        first, _ = await stand_in(client, task_queue, "FIRST")
        paid_late, late_handle = await stand_in(client, task_queue, "PAID-LATE")
        paid_early, early_handle = await stand_in(client, task_queue, "PAID-EARLY")
        entity = await client.start_workflow(
            LEASE_WORKFLOW,
            AccountLeaseState(account_id=account),
            id=lease_workflow_id(account),
            task_queue=task_queue,
            start_signal=REQUEST_SIGNAL,
            start_signal_args=[request(account, first, 0)],
        )
        await eventually(lambda: holder_of(entity), lambda h: h == "FIRST", what="FIRST holds")
        # The later payment's ask lands first; the earlier one's a moment after.
        await entity.signal(REQUEST_SIGNAL, request(account, paid_late, 2))
        await entity.signal(REQUEST_SIGNAL, request(account, paid_early, 1))
        state = await eventually(
            lambda: entity.query(AccountLease.state),
            lambda s: len(s.queue) == 2,
            what="both queued",
        )
        assert [q.run.order_id for q in state.queue] == ["PAID-EARLY", "PAID-LATE"]
        await eventually(
            lambda: early_handle.query(StandInRun.token), lambda t: t is None, what="waiting"
        )
        await entity.signal(RELEASE_SIGNAL, LeaseRelease(account_id=account, run=first, token=1))
        await eventually(
            lambda: holder_of(entity), lambda h: h == "PAID-EARLY", what="PAID-EARLY holds"
        )
        assert await early_handle.query(StandInRun.token) == 2
        await entity.signal(
            RELEASE_SIGNAL, LeaseRelease(account_id=account, run=paid_early, token=2)
        )
        await eventually(
            lambda: late_handle.query(StandInRun.token), lambda t: t == 3, what="PAID-LATE's grant"
        )
        for handle in (late_handle, early_handle):
            await handle.terminate(reason="test over")
        await entity.signal(
            RELEASE_SIGNAL, LeaseRelease(account_id=account, run=paid_late, token=3)
        )
        await eventually(lambda: holder_of(entity), lambda h: h is None, what="free again")
        await entity.terminate(reason="test over")
    # Signal-with-start's handle names no first run: the entity's, by describing it.
    described = await entity.describe()
    first_run = client.get_workflow_handle(
        entity.id, run_id=described.run_id, first_execution_run_id=described.run_id
    )
    await record_histories(client, first_run, "lease-entity-payment-order")


def test_the_queue_is_in_payment_order_and_keeps_arrival_order_for_ties() -> None:
    def ask(name: str, paid_minutes: int | None) -> LeaseRequest:
        run = RunRef(order_id=name, workflow_id=f"upgrade-{name}", run_id=name)
        paid = None if paid_minutes is None else PAID + timedelta(minutes=paid_minutes)
        return LeaseRequest(account_id="acct", run=run, paid_at=paid)

    queue: list[LeaseRequest] = []
    for name, minutes in [("C", 3), ("A", 1), ("OLD", None), ("B", 2), ("A2", 1), ("D", 4)]:
        queue = in_payment_order(queue, ask(name, minutes))
    # OLD (asked by code that sent no `paid_at`) keeps its place by arrival: B and A2, which
    # asked after it, queue behind it, in payment order among themselves.
    assert [q.run.order_id for q in queue] == ["A", "C", "OLD", "A2", "B", "D"]
