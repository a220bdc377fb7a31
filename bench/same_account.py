"""The same-account burst: N orders of ONE account, all paid at once, one after the other.

The orders (distinct order ids and apps, mixed target plans and add-ons) are started on
REAL-inproc and left waiting for payment (each has had its first task); then every payment
notice is sent at once. The account lease lets one order at a time apply its change, so the
orders queue at the account's entity and run one after another. Measured: the time from the
first notice to the last `active`, orders per second over it, each order's latency (its notice
sent -> its result), the lease's wait (request -> grant, the queueing included) and its events
(in the sagas and in the one entity).

Checked from the histories, and a failure of the benchmark (`LeaseOrderViolation`), never a
number: every order ends `active`; the entity granted the account to each order once, each
time to the earliest payment (`paid_at`, carried in the request) among the orders that had asked
and were still waiting, each grant after the previous holder's release, with growing tokens; the
orders activated (their runs completed) in grant order.

Measured, not checked: how far the grant order is from the order of the payments' confirmation
overall. Each run asks for the account right after its payment is confirmed, but the asks
(activities) race to the entity: an order paid earlier whose ask lands after a grant waits for
the next one (see bench/NOTES.md and docs/limitations.md).

REAL-inproc, not REAL-http: the sandbox checks each order's `from_plan` against the account's
plan of the moment, so orders of one account all starting from `basic` cannot all end active
there; the in-process platform answers each as on a free account, which is what the lease's own
cost needs.

Boundary: drives and checks one burst; the processes are started by the runner.
"""

import asyncio
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.calibrate import wait_for_poll_timer
from bench.lease_cost import saga_lease
from bench.measure import percentile
from bench.variants import notice_for, start_real
from client import upgrades
from domain.lease import (
    GRANTED_SIGNAL,
    RELEASE_SIGNAL,
    REQUEST_SIGNAL,
    LeaseGrant,
    LeaseRelease,
    LeaseRequest,
    lease_workflow_id,
)
from domain.models import PaymentMethod, UpgradeOrder, catalog_price

VARIANT = "REAL-inproc"
# Target plan and add-ons, in turn (every order starts from `basic`).
SHAPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("premium", ()),
    ("standard", ("api.cloud_recording",)),
    ("premium", ("api.traffic_boost",)),
    ("basic", ("video.hd_720p",)),
)
START_CONCURRENCY = 8


class LeaseOrderViolation(RuntimeError):
    """The orders of one account did not run one at a time in payment order."""


@dataclass(frozen=True)
class SameAccountResult:
    orders: int
    total_s: float  # the first notice sent -> the last order active
    throughput_per_s: float
    p50_ms: float
    p99_ms: float
    lease_wait_p50_ms: float
    lease_wait_p99_ms: float
    saga_lease_events_per_order: float
    entity_events_per_order: float
    entity_events: int  # over all its runs
    entity_runs: int  # 1 + its continues-as-new
    # Grants against the payments' confirmation order (`PaymentOrder`): measured, not checked.
    payment_order_inverted_pairs: int
    payment_order_max_inversion_ms: float


def burst_order(tag: str, n: int) -> UpgradeOrder:
    order_id = f"{tag}-{n:03d}"
    to_plan, features = SHAPES[n % len(SHAPES)]
    return UpgradeOrder(
        order_id=order_id,
        account_id=f"acct-{tag}",
        app_id=f"app-{order_id}",
        from_plan="basic",
        to_plan=to_plan,
        features=features,
        payment_method=PaymentMethod.ALIPAY,
        transaction_id=f"txn-{order_id}-pay-never",
        amount=catalog_price("basic", to_plan, features),
    )


def _payload(event_input: object, kind: type) -> object:
    converter = pydantic_data_converter.payload_converter
    return converter.from_payloads(event_input.payloads, [kind])[0]  # type: ignore[attr-defined]


@dataclass(frozen=True)
class EntityLog:
    """What the entity's histories say, in their order."""

    requests: list[LeaseRequest]
    grants: list[LeaseGrant]
    sequence: list[str]  # grants and releases interleaved: `grant:<order>`, `release:<order>`
    # Per grant: the requests that had reached the entity and were not granted yet.
    waiting_at_grant: list[list[LeaseRequest]]


def _entity_log(runs: list[WorkflowHistory]) -> EntityLog:
    requests: list[LeaseRequest] = []
    grants: list[LeaseGrant] = []
    sequence: list[str] = []
    waiting_at_grant: list[list[LeaseRequest]] = []
    granted: set[str] = set()
    for event in (event for history in runs for event in history.events):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signaled = event.workflow_execution_signaled_event_attributes
            if signaled.signal_name == REQUEST_SIGNAL:
                requests.append(_payload(signaled.input, LeaseRequest))  # type: ignore[arg-type]
            elif signaled.signal_name == RELEASE_SIGNAL:
                release: LeaseRelease = _payload(signaled.input, LeaseRelease)  # type: ignore[assignment]
                sequence.append(f"release:{release.run.order_id}")
        elif event.event_type == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
            initiated = event.signal_external_workflow_execution_initiated_event_attributes
            if initiated.signal_name == GRANTED_SIGNAL:
                grant: LeaseGrant = _payload(initiated.input, LeaseGrant)  # type: ignore[assignment]
                waiting_at_grant.append([r for r in requests if r.run.order_id not in granted])
                granted.add(grant.order_id)
                grants.append(grant)
                sequence.append(f"grant:{grant.order_id}")
    return EntityLog(requests, grants, sequence, waiting_at_grant)


def _not_the_earliest_payment(log: EntityLog) -> list[str]:
    """The grants that went to an order while one paid earlier was waiting."""
    wrong = []
    for grant, waiting in zip(log.grants, log.waiting_at_grant, strict=True):
        chosen = [r for r in waiting if r.run.order_id == grant.order_id]
        paid = [r.paid_at for r in waiting if r.paid_at is not None]
        if not chosen or (chosen[0].paid_at is not None and paid and chosen[0].paid_at > min(paid)):
            wrong.append(grant.order_id)
    return wrong


async def entity_histories(client: Client, entity_id: str) -> list[WorkflowHistory]:
    """Every run of the account's entity, oldest first: it continues as new past its history
    limit (the queue-position signals to the waiting orders make it grow with N squared)."""
    runs: list[WorkflowHistory] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(entity_id, run_id=run_id).fetch_history()
        runs.append(history)
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
        if run_id is None:
            return runs[::-1]


def _completed_at(history: WorkflowHistory) -> datetime:
    last = history.events[-1]
    if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        raise LeaseOrderViolation(f"{history.workflow_id}: its run did not complete")
    return last.event_time.ToDatetime(tzinfo=UTC)


@dataclass(frozen=True)
class PaymentOrder:
    """How far the grant order is from the order of the payments' confirmation (`paid_at`)."""

    inverted_pairs: int  # (a granted before b) while b's payment was confirmed before a's
    max_inversion_ms: float  # the largest paid_at gap of such a pair


def payment_order(requests: list[LeaseRequest]) -> PaymentOrder:
    """`requests` in grant order."""
    paid = []
    for request in requests:
        if request.paid_at is None:
            raise LeaseOrderViolation(f"{request.run.order_id}: asked for the account unpaid")
        paid.append(request.paid_at)
    gaps = [
        (paid[i] - paid[j]).total_seconds() * 1000
        for i in range(len(paid))
        for j in range(i + 1, len(paid))
        if paid[j] < paid[i]
    ]
    return PaymentOrder(inverted_pairs=len(gaps), max_inversion_ms=max(gaps, default=0.0))


def check_order(
    orders: list[UpgradeOrder], entity: list[WorkflowHistory], completed: dict[str, datetime]
) -> PaymentOrder:
    """Raise `LeaseOrderViolation` unless the account ran its orders one at a time, each grant to
    the earliest payment waiting, activated in grant order; measure the grant order against the
    payments' confirmation order."""
    log = _entity_log(entity)
    requests, grants, sequence = log.requests, log.grants, log.sequence
    expected = sorted(o.order_id for o in orders)
    asked = [r.run.order_id for r in requests]
    granted = [g.order_id for g in grants]
    if sorted(asked) != expected or sorted(granted) != expected:
        raise LeaseOrderViolation(f"requests {asked} / grants {granted}: not each order once")
    if wrong := _not_the_earliest_payment(log):
        raise LeaseOrderViolation(f"granted {wrong} while an order paid earlier was waiting")
    if [g.token for g in grants] != sorted({g.token for g in grants}):
        raise LeaseOrderViolation(f"tokens {[g.token for g in grants]} do not grow")
    one_at_a_time = [step for oid in granted for step in (f"grant:{oid}", f"release:{oid}")]
    if sequence != one_at_a_time:
        raise LeaseOrderViolation(f"grants and releases interleave: {sequence}")
    activated = sorted(completed, key=lambda oid: completed[oid])
    if activated != granted:
        raise LeaseOrderViolation(f"activated {activated}, granted {granted}")
    by_order = {r.run.order_id: r for r in requests}
    return payment_order([by_order[oid] for oid in granted])


async def same_account_burst(client: Client, tag: str, count: int) -> SameAccountResult:
    orders = [burst_order(tag, n) for n in range(count)]
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def start(order: UpgradeOrder) -> None:
        async with gate:
            await start_real(client, order, VARIANT)
            await wait_for_poll_timer(client, order.workflow_id)

    await asyncio.gather(*(start(order) for order in orders))
    latencies: list[float] = []
    began = time.perf_counter()

    async def pay_and_wait(order: UpgradeOrder) -> None:
        sent = time.perf_counter()
        ack = await upgrades.confirm_payment(client, notice_for(order))
        if ack.result != "accepted":
            raise RuntimeError(f"{order.order_id}: payment notice {ack.result}: {ack.detail}")
        final = await upgrades.wait_result(client, order.order_id)
        if final.stage != "active":
            raise LeaseOrderViolation(f"{order.order_id}: ended {final.stage}: {final.reason}")
        latencies.append((time.perf_counter() - sent) * 1000)

    await asyncio.gather(*(pay_and_wait(order) for order in orders))
    total = time.perf_counter() - began

    completed: dict[str, datetime] = {}
    waits: list[float] = []
    events: list[int] = []
    for order in orders:
        history = await client.get_workflow_handle(order.workflow_id).fetch_history()
        completed[order.order_id] = _completed_at(history)
        lease = saga_lease(history)
        if lease.wait_ms is None:
            raise LeaseOrderViolation(f"{order.order_id}: active without a grant")
        waits.append(lease.wait_ms)
        events.append(lease.events)
    entity_id = lease_workflow_id(orders[0].account_id)
    entity = await entity_histories(client, entity_id)
    paid_order = check_order(orders, entity, completed)
    entity_events = sum(len(history.events) for history in entity)
    return SameAccountResult(
        orders=count,
        total_s=total,
        throughput_per_s=count / total,
        p50_ms=percentile(latencies, 0.5),
        p99_ms=percentile(latencies, 0.99),
        lease_wait_p50_ms=percentile(waits, 0.5),
        lease_wait_p99_ms=percentile(waits, 0.99),
        saga_lease_events_per_order=statistics.fmean(events),
        entity_events_per_order=entity_events / count,
        entity_events=entity_events,
        entity_runs=len(entity),
        payment_order_inverted_pairs=paid_order.inverted_pairs,
        payment_order_max_inversion_ms=paid_order.max_inversion_ms,
    )
