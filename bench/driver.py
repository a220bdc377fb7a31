"""One measured run: `count` upgrades of one variant at a fixed concurrency.

`concurrency` client tasks each drive upgrades one after another (start → payment notice →
status → result) until `count` are done; throughput is count / wall time, latency is each
upgrade's time from the start call to its result. The worker process's CPU seconds are read
before and after (the worker serves nothing else meanwhile: variants run one at a time).
A sample of the runs' histories gives events per upgrade and workflow-task latencies; a larger
one, with each run's account entity, the account lease's events and wait (`bench.lease_cost`).

Boundary: drives and measures one run; repetition, interleaving and reporting are elsewhere.
"""

import asyncio
import itertools
import time
from dataclasses import dataclass

from temporalio.client import Client

from bench.lease_cost import LeaseSample, lease_sample
from bench.measure import ProcessProbe, history_stats, percentile
from bench.variants import Variant, lease_entity_id, workflow_id

HISTORY_SAMPLE = 8
# Runs whose lease wait is read: enough for a p99 over the repetitions of a cell.
LEASE_SAMPLE = 32


@dataclass(frozen=True)
class RunSample:
    variant: str
    concurrency: int
    upgrades: int
    wall_s: float
    throughput_per_s: float
    p50_ms: float
    p99_ms: float
    cpu_s_per_upgrade: float
    events_per_upgrade: float
    activities_per_upgrade: float
    task_latencies_ms: list[float]
    lease: LeaseSample


async def run_sample(
    client: Client,
    variant: Variant,
    *,
    concurrency: int,
    count: int,
    tag: str,
    worker: ProcessProbe,
    history_sample: int = HISTORY_SAMPLE,
    lease_runs: int = LEASE_SAMPLE,
) -> RunSample:
    order_ids = [f"{tag}-{index:05d}" for index in range(count)]
    pending = iter(order_ids)
    latencies: list[float] = []

    async def client_task() -> None:
        for order_id in pending:  # shared iterator: each id is taken once
            began = time.perf_counter()
            await variant.drive(client, order_id)
            latencies.append((time.perf_counter() - began) * 1000)

    cpu_before = worker.cpu_seconds()
    began = time.perf_counter()
    await asyncio.gather(*(client_task() for _ in range(min(concurrency, count))))
    wall = time.perf_counter() - began
    cpu = worker.cpu_seconds() - cpu_before

    step = max(count // history_sample, 1)
    sample = [workflow_id(variant.name, oid) for oid in itertools.islice(order_ids, 0, None, step)]
    stats = await history_stats(client, sample[:history_sample])
    lease = LeaseSample()
    if lease_runs and lease_entity_id(variant.name, order_ids[0]) is not None:
        leased = order_ids[:: max(count // lease_runs, 1)][:lease_runs]
        lease = await lease_sample(
            client,
            [workflow_id(variant.name, oid) for oid in leased],
            [lease_entity_id(variant.name, oid) or "" for oid in leased],
        )
    return RunSample(
        variant=variant.name,
        concurrency=concurrency,
        upgrades=count,
        wall_s=wall,
        throughput_per_s=count / wall,
        p50_ms=percentile(latencies, 0.5),
        p99_ms=percentile(latencies, 0.99),
        cpu_s_per_upgrade=cpu / count,
        events_per_upgrade=stats.events_per_run,
        activities_per_upgrade=stats.activities_per_run,
        task_latencies_ms=stats.task_latencies_ms,
        lease=lease,
    )
