"""The same-account burst: N orders of ONE account, all paid at once, one after the other.

The orders (distinct order ids and apps, mixed target plans and add-ons) are started on
REAL-inproc and left waiting for payment (each has had its first task); then every payment
notice is sent at once. The account lease lets one order at a time apply its change, so the
orders queue at the account's entity and run one after another. Measured: the time from the
first notice to the last `active`, orders per second over it, each order's latency (its notice
sent -> its result), the lease's wait (request -> grant, the queueing included) and its events
(in the sagas and in the one entity).

Checked from the histories, and a failure of the benchmark (`LeaseOrderViolation`), never a
number: every order ends `active`; the entity granted the account in the order the requests
reached it, each grant after the previous holder's release; the grant order is the order of the
payments' confirmation (`paid_at`, the time each run recorded its payment, carried in its
request); the orders activated (their runs completed) in grant order.

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
PARK_TIMEOUT_S = 60.0


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
    entity_events: int


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


async def _waiting_for_payment(client: Client, order: UpgradeOrder) -> None:
    deadline = time.monotonic() + PARK_TIMEOUT_S
    handle = client.get_workflow_handle(order.workflow_id)
    while time.monotonic() < deadline:
        history = await handle.fetch_history()
        if any(e.event_type == EventType.EVENT_TYPE_TIMER_STARTED for e in history.events):
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{order.order_id}: not waiting for payment within {PARK_TIMEOUT_S:g}s")


def _payload(event_input: object, kind: type) -> object:
    converter = pydantic_data_converter.payload_converter
    return converter.from_payloads(event_input.payloads, [kind])[0]  # type: ignore[attr-defined]


def _entity_log(history: WorkflowHistory) -> tuple[list[LeaseRequest], list[LeaseGrant], list[str]]:
    """Requests, grants and releases (by order id) in the entity's history order; each release
    and grant as event positions interleaved in `sequence`."""
    requests: list[LeaseRequest] = []
    grants: list[LeaseGrant] = []
    sequence: list[str] = []  # "grant:<order>" / "release:<order>" in history order
    for event in history.events:
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
                grants.append(grant)
                sequence.append(f"grant:{grant.order_id}")
    return requests, grants, sequence


def _completed_at(history: WorkflowHistory) -> datetime:
    last = history.events[-1]
    if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        raise LeaseOrderViolation(f"{history.workflow_id}: its run did not complete")
    return last.event_time.ToDatetime(tzinfo=UTC)


def check_order(
    orders: list[UpgradeOrder], entity: WorkflowHistory, completed: dict[str, datetime]
) -> None:
    """Raise `LeaseOrderViolation` unless the account ran its orders one at a time, granted in
    request order = payment order, activated in grant order."""
    requests, grants, sequence = _entity_log(entity)
    expected = sorted(o.order_id for o in orders)
    asked = [r.run.order_id for r in requests]
    granted = [g.order_id for g in grants]
    if sorted(asked) != expected or sorted(granted) != expected:
        raise LeaseOrderViolation(f"requests {asked} / grants {granted}: not each order once")
    if granted != asked:
        raise LeaseOrderViolation(f"granted {granted}, not in request order {asked}")
    if [g.token for g in grants] != sorted({g.token for g in grants}):
        raise LeaseOrderViolation(f"tokens {[g.token for g in grants]} do not grow")
    one_at_a_time = [step for oid in granted for step in (f"grant:{oid}", f"release:{oid}")]
    if sequence != one_at_a_time:
        raise LeaseOrderViolation(f"grants and releases interleave: {sequence}")
    paid = [r.paid_at for r in requests]
    if any(p is None for p in paid) or paid != sorted(paid):  # type: ignore[type-var]
        raise LeaseOrderViolation(
            "granted out of payment order: "
            + ", ".join(f"{r.run.order_id} paid {r.paid_at}" for r in requests)
        )
    activated = sorted(completed, key=lambda oid: completed[oid])
    if activated != granted:
        raise LeaseOrderViolation(f"activated {activated}, granted {granted}")


async def same_account_burst(client: Client, tag: str, count: int) -> SameAccountResult:
    orders = [burst_order(tag, n) for n in range(count)]
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def start(order: UpgradeOrder) -> None:
        async with gate:
            await start_real(client, order, VARIANT)
            await _waiting_for_payment(client, order)

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
    entity = await client.get_workflow_handle(entity_id).fetch_history()
    check_order(orders, entity, completed)
    return SameAccountResult(
        orders=count,
        total_s=total,
        throughput_per_s=count / total,
        p50_ms=percentile(latencies, 0.5),
        p99_ms=percentile(latencies, 0.99),
        lease_wait_p50_ms=percentile(waits, 0.5),
        lease_wait_p99_ms=percentile(waits, 0.99),
        saga_lease_events_per_order=statistics.fmean(events),
        entity_events_per_order=len(entity.events) / count,
        entity_events=len(entity.events),
    )
