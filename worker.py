"""The worker process: runs the upgrade saga and its HTTP activities against the configured Temporal.

Wiring only. Connection through envconfig (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, TLS or API
key, or a profile); the platform's base URL and the rest from `UPGRADE_*` settings. Prometheus
metrics (the SDK's and the saga's) on `UPGRADE_METRICS_BIND` (`/metrics`; empty: none). SIGTERM or
SIGINT stops polling, lets running activities finish for `UPGRADE_SHUTDOWN_GRACE_S`, then exits 0.
"""

import asyncio
import signal
import sys
from datetime import timedelta

import structlog

from activities import build_activities, create_platform_client
from service.logging import configure_logging
from service.metrics_endpoint import MetricsUnavailable, metrics_runtime, metrics_url
from service.process import run_and_exit
from service.settings import load_settings
from service.temporal import ConnectionSettingsError, connect
from service.worker_setup import build_worker

log = structlog.get_logger("worker")


async def serve() -> int:
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        runtime = metrics_runtime(settings.metrics_bind)
    except MetricsUnavailable as err:
        log.error("metrics endpoint unavailable", error=str(err))
        return 1
    client = await connect(runtime=runtime)
    platform = create_platform_client(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    worker = build_worker(
        client,
        task_queue=settings.task_queue,
        activities=build_activities(platform),
        graceful_shutdown_timeout=timedelta(seconds=settings.shutdown_grace_s),
    )
    log.info(
        "worker started",
        task_queue=settings.task_queue,
        namespace=client.namespace,
        platform_url=settings.platform_url,
        time_scale=settings.time_scale,
        metrics=metrics_url(settings.metrics_bind) if runtime else None,
    )
    async with worker:
        await stop.wait()
        log.info("worker stopping", grace_s=settings.shutdown_grace_s)
    await platform.aclose()
    log.info("worker stopped")
    return 0


def main() -> int:
    try:
        return asyncio.run(serve())
    except ConnectionSettingsError as err:
        print(f"worker.py: invalid connection settings: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    run_and_exit(main)
