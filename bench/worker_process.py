"""The benchmark's worker process: one Temporal worker per variant, all with the same settings.

`python -m bench.worker_process --address HOST:PORT --variants B2,B3,REAL-inproc,REAL-http
[--platform-url URL] [--max-cached-workflows N]` serves each named variant on its own task queue
(`bench-<variant>`) from this one process, so the driver can read the process's CPU time and RSS
around each run. Logging is the production setup (JSON lines on stdout, which the driver sends
to a file). Prints `ready` once every worker polls; SIGTERM stops it.

Boundary: wiring only; the settings are `WORKER_OPTIONS` (recorded in the report), the workflows
and activities come from `bench.baselines` (B3's account entity: `bench.baseline_lease`),
`bench.instant_platform` and the saga's own modules.
"""

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Callable
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import build_activities, create_platform_client
from bench.baseline_lease import LeaseShaped, lease_request
from bench.baselines import OneActivity, SagaShaped, blob_call, noop
from bench.instant_platform import instant_activities
from service.logging import configure_logging
from service.process import run_and_exit
from service.settings import Settings
from service.temporal import connect
from service.worker_setup import PASSTHROUGH_MODULES, WORKFLOWS, share_workflow_code

VARIANTS = ("B2", "B3", "REAL-inproc", "REAL-http")

# The same for every variant and every phase (only the cache size differs in the replay phase).
# Temporal's defaults, written out so the report records them.
WORKER_OPTIONS: dict[str, Any] = {
    "max_concurrent_workflow_tasks": 100,
    "max_concurrent_activities": 100,
    "max_concurrent_workflow_task_polls": 5,
    "max_concurrent_activity_task_polls": 5,
    "disable_eager_activity_execution": False,
}
DEFAULT_MAX_CACHED_WORKFLOWS = 1000


def task_queue(variant: str) -> str:
    return f"bench-{variant.lower()}"


def _runner() -> SandboxedWorkflowRunner:
    # The saga's own sandbox settings (and its shared workflow code), plus the benchmark's
    # shape module for B3.
    share_workflow_code()
    restrictions = SandboxRestrictions.default.with_passthrough_modules(
        *PASSTHROUGH_MODULES, "bench"
    )
    return SandboxedWorkflowRunner(restrictions=restrictions)


def _worker(
    client: Client, variant: str, workflows: list[type], activities: list[Callable[..., Any]],
    max_cached: int,
) -> Worker:  # fmt: skip
    return Worker(
        client,
        task_queue=task_queue(variant),
        workflows=workflows,
        activities=activities,
        workflow_runner=_runner(),
        max_cached_workflows=max_cached,
        **WORKER_OPTIONS,
    )


async def serve(args: argparse.Namespace) -> int:
    configure_logging("json", "INFO")
    client = await connect(args.address, "default")
    platform = create_platform_client(Settings(platform_url=args.platform_url))
    catalogue: dict[str, tuple[list[type], list[Callable[..., Any]]]] = {
        "B2": ([OneActivity], [noop]),
        "B3": ([SagaShaped, LeaseShaped], [blob_call, lease_request]),
        "REAL-inproc": (WORKFLOWS, instant_activities()),
        "REAL-http": (WORKFLOWS, build_activities(platform)),
    }
    workers = [
        _worker(client, variant, *catalogue[variant], args.max_cached_workflows)
        for variant in args.variants
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        for worker in workers:
            await stack.enter_async_context(worker)
        print("ready", flush=True)
        await stop.wait()
    await platform.aclose()
    return 0


def _variants(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in VARIANTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"variants: choose from {', '.join(VARIANTS)}")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker_process")
    parser.add_argument("--address", required=True)
    parser.add_argument("--variants", type=_variants, default=list(VARIANTS))
    parser.add_argument("--platform-url", default="http://127.0.0.1:8300")
    parser.add_argument("--max-cached-workflows", type=int, default=DEFAULT_MAX_CACHED_WORKFLOWS)
    return asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    run_and_exit(main)
