"""Where the worker's CPU goes: REAL-inproc against B3, measured in CPU time, not wall time.

CPU time is far less sensitive to a loaded machine than latency or throughput, so this is the
tool for tuning on a shared machine (`make bench` stays the judge, on a quiet one).

- `python -m bench.profile_worker live [--upgrades 150] [--repetitions 3] [--concurrency 8]
  [--save-histories DIR]`: the harness's own processes (dev server, `bench.worker_process`
  serving B3 and REAL-inproc), the harness's own drive; per repetition B3 then REAL-inproc,
  `--upgrades` each, and the worker process's CPU (user + system) before and after: ms per
  upgrade, the REAL/B3 ratio, and the worker's RSS. `--save-histories` keeps one finished
  history of each variant (for `replay`).
- `python -m bench.profile_worker replay [PATHS...] [--rounds 20] [--profile N]`: replays
  histories (default `tests/histories/*.json`) in this process with a fresh Replayer, so every
  workflow task replays from the start (the cost of a worker whose cache is off, without the
  server); prints the CPU ms per replay of each history. A history of B3 (`b3-*.json`, saved by
  `live`) replays as `bench-b3`. `--profile N` runs the replays under cProfile (in the thread that
  runs the workflow code and in the event loop's) and prints the N costliest functions by
  cumulative time (`--only REGEX`: those whose path matches). A replay here builds the sandbox
  once more than a live run does (the Replayer validates the workflow with a throw-away
  instance per replay), so it overstates the per-run cost a little.
- `python -m bench.profile_worker memory [--runs 200]`: a worker in this process (the harness's
  settings) parks `--runs` REAL-inproc upgrades in `awaiting_payment`; tracemalloc says which
  files' allocations the cached runs hold, per run, beside the RSS growth per run
  (`--no-trace`: RSS only, without tracemalloc's own overhead in it).

Boundary: measuring and printing; it changes no setting of the saga or the harness.
"""

import argparse
import asyncio
import concurrent.futures
import cProfile
import gc
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from bench.baselines import SagaShaped
from bench.calibrate import measure_saga_sizes
from bench.instant_platform import instant_activities
from bench.measure import ProcessProbe
from bench.processes import Processes
from bench.scale import park
from bench.variants import Variant, b3_drive, real_drive, workflow_id
from bench.worker_process import WORKER_OPTIONS, task_queue
from service.process import run_and_exit
from service.temporal import connect
from service.worker_setup import PASSTHROUGH_MODULES, WORKFLOWS, workflow_runner

ROOT = Path(__file__).resolve().parents[1]
HISTORIES = ROOT / "tests" / "histories"
BATCHES = 5
WARM_RUNS = 5


# ---------------------------------------------------------------------------------------- live
async def _connect(address: str) -> Client:
    deadline = time.monotonic() + 60
    while True:
        try:
            client = await connect(address, "default")
            await client.count_workflows()
            return client
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _drive(client: Client, variant: Variant, tag: str, count: int, concurrency: int) -> None:
    pending = iter(f"{tag}-{index:05d}" for index in range(count))

    async def client_task() -> None:
        for order_id in pending:  # shared iterator: each id is taken once
            await variant.drive(client, order_id)

    await asyncio.gather(*(client_task() for _ in range(concurrency)))


async def live(args: argparse.Namespace) -> int:
    run_dir = Path(tempfile.mkdtemp(prefix="profile-worker-"))
    with Processes(run_dir) as processes:
        _, address = processes.dev_server(run_dir / "temporal.db")
        worker = processes.worker(
            "worker", address, ["B3", "REAL-inproc"], "http://127.0.0.1:9", 1000
        )
        probe = ProcessProbe(worker.pid)
        client = await _connect(address)
        sizes = await measure_saga_sizes(client, "calibrate")
        variants = [
            Variant("B3", b3_drive(sizes)),
            Variant("REAL-inproc", real_drive("REAL-inproc")),
        ]
        for variant in variants:  # warm-up: imports, caches, connections
            await _drive(client, variant, f"warm-{variant.name}", 8, 4)
        cpu: dict[str, list[float]] = {v.name: [] for v in variants}
        for rep in range(args.repetitions):
            for variant in variants:
                before = probe.cpu_seconds()
                await _drive(
                    client, variant, f"r{rep}-{variant.name}", args.upgrades, args.concurrency
                )
                per_upgrade_ms = (probe.cpu_seconds() - before) / args.upgrades * 1000
                cpu[variant.name].append(per_upgrade_ms)
                print(
                    f"rep {rep} {variant.name:12} {per_upgrade_ms:6.1f} ms CPU/upgrade", flush=True
                )
        b3, real = statistics.median(cpu["B3"]), statistics.median(cpu["REAL-inproc"])
        print(f"median B3 {b3:.1f} ms, REAL-inproc {real:.1f} ms, ratio {real / b3:.2f}")
        print(f"worker RSS {probe.rss_bytes() / 2**20:.0f} MiB")
        if args.save_histories:
            args.save_histories.mkdir(parents=True, exist_ok=True)
            for variant in variants:
                wf_id = workflow_id(variant.name, f"r0-{variant.name}-00000")
                history = await client.get_workflow_handle(wf_id).fetch_history()
                name = "b3" if variant.name == "B3" else "real"
                (args.save_histories / f"{name}-{wf_id}.json").write_text(history.to_json())
    return 0


# -------------------------------------------------------------------------------------- memory
def _short(filename: str) -> str:
    for marker in ("site-packages/", "python3.11/", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


async def memory(args: argparse.Namespace) -> int:
    run_dir = Path(tempfile.mkdtemp(prefix="profile-worker-"))
    with Processes(run_dir) as processes:
        _, address = processes.dev_server(run_dir / "temporal.db")
        client = await _connect(address)
        worker = Worker(
            client,
            task_queue=task_queue("REAL-inproc"),
            workflows=WORKFLOWS,
            activities=instant_activities(),
            workflow_runner=workflow_runner(),
            max_cached_workflows=args.runs + WARM_RUNS,
            **WORKER_OPTIONS,
        )
        probe = ProcessProbe(os.getpid())
        async with worker:
            await park(client, "warm", (WARM_RUNS,), probe, run_dir / "temporal.db")
            gc.collect()
            if args.trace:
                tracemalloc.start()
            rss_before = probe.rss_bytes()
            if not args.trace:
                await park(client, "parked", (args.runs,), probe, run_dir / "temporal.db")
                rss = (probe.rss_bytes() - rss_before) / args.runs / 1024
                print(f"{args.runs} parked REAL-inproc runs: RSS {rss:.0f} KiB per run")
                return 0
            before = tracemalloc.take_snapshot()
            await park(client, "parked", (args.runs,), probe, run_dir / "temporal.db")
            gc.collect()
            after = tracemalloc.take_snapshot()
            rss_after = probe.rss_bytes()
            tracemalloc.stop()
            diff = after.compare_to(before, "filename")
            traced = sum(stat.size_diff for stat in diff)
            print(
                f"{args.runs} parked REAL-inproc runs (tracemalloc on): RSS "
                f"{(rss_after - rss_before) / args.runs / 1024:.0f} KiB per run, Python "
                f"allocations {traced / args.runs / 1024:.0f} KiB per run; by file:"
            )
            for stat in diff[: args.top]:
                per_run = stat.size_diff / args.runs / 1024
                print(
                    f"{per_run:8.1f} KiB/run {stat.count_diff / args.runs:7.1f} blocks/run  "
                    f"{_short(str(stat.traceback[0].filename))}"
                )
    return 0


# -------------------------------------------------------------------------------------- replay
class _ThreadProfiles:
    """One cProfile per workflow-task thread (cProfile sees only the thread it is enabled in)."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []

    def start(self) -> None:
        # CPU time of this thread, not wall time (which would count waiting for the GIL).
        profile = cProfile.Profile(time.thread_time)
        self.profiles.append(profile)
        profile.enable()

    def stats(self) -> pstats.Stats:
        for profile in self.profiles:
            profile.disable()  # no-op for other threads' hooks; they are idle by now
        stats = pstats.Stats(self.profiles[0])
        for profile in self.profiles[1:]:
            stats.add(profile)
        return stats


def _b3_runner() -> SandboxedWorkflowRunner:
    restrictions = SandboxRestrictions.default.with_passthrough_modules(
        *PASSTHROUGH_MODULES, "bench"
    )
    return SandboxedWorkflowRunner(restrictions=restrictions)


async def replay(args: argparse.Namespace) -> int:
    paths = args.paths or sorted(HISTORIES.glob("*.json"))
    profiles = _ThreadProfiles() if args.profile else None
    executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=1, initializer=profiles.start if profiles else None
    )
    totals: list[float] = []
    for path in paths:
        b3 = path.name.startswith("b3-")
        history = WorkflowHistory.from_json(path.stem, path.read_text("utf-8"))
        replayer = Replayer(
            workflows=[SagaShaped] if b3 else WORKFLOWS,
            data_converter=pydantic_data_converter,
            workflow_runner=_b3_runner() if b3 else workflow_runner(),
            workflow_task_executor=executor,
        )
        await replayer.replay_workflow(history)  # warm: imports, first-use caches
        if profiles:  # the event loop's thread too: it creates each run's sandbox
            profiles.start()
            loop_profile = profiles.profiles[-1]
        # Several batches, the median of their means: one batch slowed by a neighbour's load
        # (cache misses, frequency) does not move it.
        batches = []
        for _ in range(BATCHES):
            began = time.process_time()
            for _ in range(args.rounds):
                await replayer.replay_workflow(history)
            batches.append((time.process_time() - began) / args.rounds * 1000)
        per_replay = statistics.median(batches)
        if profiles:
            loop_profile.disable()
        print(
            f"{path.stem:40} {len(history.events):4} events {per_replay:7.1f} ms CPU/replay "
            f"(batches {min(batches):.1f}-{max(batches):.1f})"
        )
        totals.append(per_replay)
    print(f"median {statistics.median(totals):.1f} ms, max {max(totals):.1f} ms per replay")
    executor.shutdown()
    if profiles:
        out = io.StringIO()
        stats = profiles.stats()
        stats.stream = out  # type: ignore[attr-defined]
        restrictions: list[str | int] = [args.only] if args.only else []
        stats.sort_stats("cumulative").print_stats(*restrictions, args.profile)
        print(out.getvalue())
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_worker")
    commands = parser.add_subparsers(dest="command", required=True)
    live_parser = commands.add_parser("live")
    live_parser.add_argument("--upgrades", type=int, default=150)
    live_parser.add_argument("--repetitions", type=int, default=3)
    live_parser.add_argument("--concurrency", type=int, default=8)
    live_parser.add_argument("--save-histories", type=Path)
    replay_parser = commands.add_parser("replay")
    replay_parser.add_argument("paths", nargs="*", type=Path)
    replay_parser.add_argument("--rounds", type=int, default=20)
    replay_parser.add_argument("--profile", type=int, default=0)
    replay_parser.add_argument("--only", help="with --profile: functions whose path matches")
    memory_parser = commands.add_parser("memory")
    memory_parser.add_argument("--runs", type=int, default=200)
    memory_parser.add_argument("--top", type=int, default=15)
    memory_parser.add_argument("--no-trace", dest="trace", action="store_false")
    args = parser.parse_args()
    command = {"live": live, "replay": replay, "memory": memory}[args.command]
    return asyncio.run(command(args))


if __name__ == "__main__":
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    run_and_exit(main)
