"""The benchmark from start to finish: processes up, the phases in order, processes down.

1. A fresh dev server (database file under the run directory), the no-delay sandbox, one worker
   process serving all four variants with `WORKER_OPTIONS`.
2. Calibration: one real run gives the saga's payload sizes for B3 (`bench.calibrate`).
3. Warm-up: a few upgrades of every variant (imports, sandbox module caches, connections).
4. Throughput: for each repetition and concurrency, every variant in turn (B2, B3, REAL-inproc,
   REAL-http, B2, ...), so that machine noise hits all of them alike.
5. Same account: orders of one account, all paid at once, on REAL-inproc (`bench.same_account`).
6. Replay: a fresh worker process with the workflow cache off drives REAL-inproc.
7. Scale: a fresh worker process (same settings) holds parked upgrades at each level; then the
   burst of payment notifications to the first of them.

Boundary: sequencing only; measuring is in `bench.driver` / `bench.scale`, reporting in
`bench.report`.
"""

import asyncio
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client

from bench.calibrate import measure_saga_sizes
from bench.driver import RunSample, run_sample
from bench.measure import ProcessProbe
from bench.processes import Processes
from bench.profiles import Profile
from bench.same_account import SameAccountResult, same_account_burst
from bench.scale import BurstResult, ScaleLevel, burst, park, replay
from bench.shape import SagaSizes
from bench.variants import variants
from bench.worker_process import DEFAULT_MAX_CACHED_WORKFLOWS, VARIANTS
from service.temporal import connect

CONNECT_TIMEOUT_S = 60.0


@dataclass
class BenchResult:
    profile: Profile
    sizes: SagaSizes
    samples: list[RunSample] = field(default_factory=list)
    replay: RunSample | None = None
    levels: list[ScaleLevel] = field(default_factory=list)
    burst: BurstResult | None = None
    same_account: SameAccountResult | None = None
    duration_s: float = 0.0


async def _connect(address: str) -> Client:
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        try:
            client = await connect(address, "default")
            await client.count_workflows()  # the namespace answers
            return client
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def run_bench(
    profile: Profile, run_dir: Path, say: Callable[[str], None] = print
) -> BenchResult:
    began = time.monotonic()
    shutil.rmtree(run_dir, ignore_errors=True)
    with Processes(run_dir) as processes:
        _, address = processes.dev_server(run_dir / "temporal.db")
        _, platform_url = processes.sandbox()
        client = await _connect(address)
        worker = processes.worker(
            "worker", address, list(VARIANTS), platform_url, DEFAULT_MAX_CACHED_WORKFLOWS
        )
        probe = ProcessProbe(worker.pid)
        say("calibrating B3 from a real run")
        sizes = await measure_saga_sizes(client, "calibration-1")
        result = BenchResult(profile=profile, sizes=sizes)
        variant_list = variants(sizes)
        for variant in variant_list:
            await run_sample(
                client, variant, concurrency=2, count=profile.warmup_upgrades,
                tag=f"warmup-{variant.name}", worker=probe, history_sample=1, lease_runs=0,
            )  # fmt: skip
        for repetition in range(1, profile.repetitions + 1):
            for concurrency, count in profile.upgrades.items():
                for variant in variant_list:
                    sample = await run_sample(
                        client, variant, concurrency=concurrency, count=count,
                        tag=f"r{repetition}-c{concurrency}-{variant.name}", worker=probe,
                    )  # fmt: skip
                    result.samples.append(sample)
                    say(
                        f"rep {repetition} c={concurrency:<3} {variant.name:<12} "
                        f"{sample.throughput_per_s:7.1f}/s  p50 {sample.p50_ms:7.1f} ms  "
                        f"p99 {sample.p99_ms:7.1f} ms  cpu {sample.cpu_s_per_upgrade * 1000:6.1f} "
                        f"ms/upgrade  {sample.events_per_upgrade:.0f} events"
                    )
        say(f"same account: {profile.same_account} orders of one account paid at once")
        result.same_account = await same_account_burst(client, "same-account", profile.same_account)
        same = result.same_account
        say(
            f"same account: {same.throughput_per_s:.2f} orders/s, all active in "
            f"{same.total_s:.1f} s, one at a time, each grant to the earliest payment waiting; "
            f"{same.payment_order_inverted_pairs} pairs granted against their payment order"
        )
        processes.stop(worker)

        say("replay: REAL-inproc with the workflow cache off")
        uncached = processes.worker("worker-nocache", address, ["REAL-inproc"], platform_url, 0)
        result.replay = uncached_sample = await replay(
            client, variant_list[2], concurrency=profile.replay_concurrency,
            count=profile.replay_upgrades, tag="replay", worker=ProcessProbe(uncached.pid),
        )  # fmt: skip
        processes.stop(uncached)
        say(
            f"replay: {uncached_sample.throughput_per_s:.1f}/s, p50 {uncached_sample.p50_ms:.1f} ms, "
            f"cpu {uncached_sample.cpu_s_per_upgrade * 1000:.1f} ms/upgrade"
        )

        say(f"scale: parking {', '.join(map(str, profile.scale_levels))} upgrades")
        holder = processes.worker(
            "worker-scale", address, ["REAL-inproc"], platform_url, DEFAULT_MAX_CACHED_WORKFLOWS
        )
        result.levels = await park(
            client, "parked", profile.scale_levels, ProcessProbe(holder.pid),
            run_dir / "temporal.db",
        )  # fmt: skip
        # Printed as they come: a later phase that fails must not take these figures with it.
        for level in result.levels:
            say(
                f"scale: {level.parked} parked, worker RSS {level.worker_rss_bytes / 2**20:.0f} MiB, "
                f"db {level.db_bytes / 2**20:.0f} MiB"
            )
        say(f"burst: {profile.burst} payment notifications at once")
        result.burst = sent = await burst(client, "parked", profile.burst)
        say(
            f"burst: {sent.accepted_per_s:.1f} accepted/s, {sent.resent} re-sent, "
            f"all active in {sent.all_active_s:.1f} s"
        )
    result.duration_s = time.monotonic() - began
    return result
