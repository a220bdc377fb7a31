"""Holding many upgrades: parked upgrades, a burst of payment notifications, replay cost.

- `park`: REAL upgrades paid by corporate transfer are started and left waiting for payment (each
  has polled the channel once and sleeps on its 10 min poll timer, the 3-business-day deadline
  further out), in steps up to each level; at each level the worker's RSS and the server's
  database size (file + WAL) are read once the worker is idle again.
- `burst`: payment notifications for `count` parked upgrades, sent as fast as one client can, with
  at most `BURST_IN_FLIGHT` updates open at a time (2,000 at once made the dev server drop gRPC
  streams: "broken pipe", then "context deadline exceeded"); a notice whose call fails is sent
  again, as a payment channel re-delivers (a `duplicate` answer then means the first was applied),
  until a deadline that grows with the burst.
  Accepted per second (until every update has answered), re-sends, and the time until every
  upgrade is `active`.
- `replay`: REAL-inproc driven against a worker whose workflow cache is off, so that every
  workflow task replays the run's history from the start; the task latencies come from the
  histories (`bench.measure`).

Boundary: drives and measures; the processes are started by the runner.
"""

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError

from bench.driver import RunSample, run_sample
from bench.measure import ProcessProbe, db_bytes
from bench.variants import Variant, bench_order, notice_for, start_real
from client import upgrades
from domain.models import PaymentMethod, PaymentNotice
from domain.status import UpgradeStatus

START_CONCURRENCY = 32
# How many `confirm_payment` calls one client keeps open at once during the burst.
BURST_IN_FLIGHT = 256
BURST_CALL_TIMEOUT_S = 60.0
# A notice whose call fails is sent again until the burst's deadline: a bound on a broken run,
# not a measurement, so it grows with the burst. Five tries of 60 s each ran out on 2026-12-03
# with 10,000 runs parked: each accepted payment now also starts its account's lease entity and
# reads the platform's apply latency, and later notices wait behind that work in the task queue.
BURST_BASE_S = 300.0
BURST_S_PER_NOTICE = 1.0
BURST_WAITS_IN_FLIGHT = 200
# How long the parked runs may take to reach their first timer: a bound on a broken run, not a
# measurement, so it grows with the runs started in the step. A fixed bound ran out twice as the
# first tasks grew: 120 s at the 10,000 level once every run started its payment alarms
# (`workflows/alarms.py`), 600 s on 2026-12-03 with the lease and ETA reads (5,000 runs started
# in one step, ~0.2 s of worker CPU each on a 2-core machine shared with the server).
SETTLE_BASE_S = 300.0
SETTLE_S_PER_RUN = 0.5
SETTLE_PAUSE_S = 2.0


@dataclass(frozen=True)
class ScaleLevel:
    parked: int
    worker_rss_bytes: int
    db_bytes: int


@dataclass(frozen=True)
class BurstResult:
    notifications: int
    send_s: float
    accepted_per_s: float
    all_active_s: float
    resent: int = 0


def parked_order_id(tag: str, index: int) -> str:
    return f"{tag}-{index:05d}"


async def _start_range(client: Client, tag: str, first: int, last: int) -> None:
    indexes = iter(range(first, last))

    async def starter() -> None:
        for index in indexes:
            order = bench_order(parked_order_id(tag, index), PaymentMethod.CORPORATE_TRANSFER)
            await start_real(client, order, "REAL-inproc")

    await asyncio.gather(*(starter() for _ in range(START_CONCURRENCY)))


async def _parked(client: Client, order_id: str) -> bool:
    """The run has polled and sleeps on its poll timer."""
    history = await client.get_workflow_handle(bench_order(order_id).workflow_id).fetch_history()
    return any(e.event_type == EventType.EVENT_TYPE_TIMER_STARTED for e in history.events)


def settle_timeout_s(new_runs: int) -> float:
    return SETTLE_BASE_S + SETTLE_S_PER_RUN * new_runs


async def _settle(client: Client, tag: str, first: int, last: int) -> None:
    timeout_s = settle_timeout_s(last - first)
    deadline = time.monotonic() + timeout_s
    tail = [parked_order_id(tag, index) for index in range(max(last - 5, 0), last)]
    while not all([await _parked(client, order_id) for order_id in tail]):
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{last - first} parked upgrades not settled within {timeout_s:g}s "
                "(the last ones started have not reached their first poll timer)"
            )
        await asyncio.sleep(0.5)
    await asyncio.sleep(SETTLE_PAUSE_S)  # the worker finishes the last tasks of the others


async def park(
    client: Client, tag: str, levels: tuple[int, ...], worker: ProcessProbe, db: Path
) -> list[ScaleLevel]:
    results = [ScaleLevel(parked=0, worker_rss_bytes=worker.rss_bytes(), db_bytes=db_bytes(db))]
    started = 0
    for level in levels:
        await _start_range(client, tag, started, level)
        await _settle(client, tag, started, level)
        started = level
        results.append(
            ScaleLevel(parked=level, worker_rss_bytes=worker.rss_bytes(), db_bytes=db_bytes(db))
        )
    return results


def burst_timeout_s(notices: int) -> float:
    return BURST_BASE_S + BURST_S_PER_NOTICE * notices


async def _deliver(
    client: Client, order_id: str, notice: PaymentNotice, gate: asyncio.Semaphore, deadline: float
) -> int:
    """One notice, re-sent while its call fails until `deadline`; how many sends it took."""
    attempt = 0
    while True:
        attempt += 1
        async with gate:
            try:
                ack = await upgrades.confirm_payment(client, notice, timeout_s=BURST_CALL_TIMEOUT_S)
            except (upgrades.MessageTimeout, RPCError):
                if time.monotonic() > deadline:
                    raise
                continue
        if ack.result == "accepted" or attempt > 1:
            return attempt
        raise RuntimeError(f"payment notice for {order_id} answered {ack.result}: {ack.detail}")


async def burst(client: Client, tag: str, count: int) -> BurstResult:
    orders = [
        bench_order(parked_order_id(tag, index), PaymentMethod.CORPORATE_TRANSFER)
        for index in range(count)
    ]
    gate = asyncio.Semaphore(BURST_IN_FLIGHT)
    began = time.perf_counter()
    deadline = time.monotonic() + burst_timeout_s(count)
    sends = await asyncio.gather(
        *(_deliver(client, order.order_id, notice_for(order), gate, deadline) for order in orders)
    )
    sent = time.perf_counter() - began
    # Waiting is a long poll per run: 2,000 at once exceed the server's concurrent poller limit
    # ("namespace concurrent poller limit exceeded"), so the waits share a bounded gate too.
    waits = asyncio.Semaphore(BURST_WAITS_IN_FLIGHT)

    async def final(order_id: str) -> UpgradeStatus:
        async with waits:
            return await upgrades.wait_result(client, order_id)

    finals = await asyncio.gather(*(final(order.order_id) for order in orders))
    done = time.perf_counter() - began
    inactive = [final for final in finals if final.stage != "active"]
    if inactive:
        raise RuntimeError(f"{len(inactive)} burst upgrades ended {inactive[0].stage}")
    return BurstResult(
        notifications=count,
        send_s=sent,
        accepted_per_s=count / sent,
        all_active_s=done,
        resent=sum(sends) - count,
    )


async def replay(
    client: Client, variant: Variant, *, concurrency: int, count: int, tag: str,
    worker: ProcessProbe,
) -> RunSample:  # fmt: skip
    # Every history of the run: the p99 of a few hundred tasks needs them all (the lease's
    # figures come from the cached runs).
    return await run_sample(
        client, variant, concurrency=concurrency, count=count, tag=tag, worker=worker,
        history_sample=count, lease_runs=0,
    )  # fmt: skip
