"""The worker's Prometheus endpoint: a Temporal SDK `Runtime` whose telemetry serves `/metrics`.

One runtime per process carries both the SDK's own metrics (`temporal_workflow_completed`,
`temporal_activity_execution_failed`, task latencies, poller and slot gauges, ...) and the saga's
business metrics recorded through the workflow meter (`workflows.metrics`). Counters are exposed
without a `_total` suffix, as the SDK's own are.

Boundary: building the runtime from `UPGRADE_METRICS_BIND`; what is recorded lives in
`workflows.metrics`. The runtime binds its port when it is created, so a taken port fails here,
before the worker connects, with a message naming the variable.
"""

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from workflows.metrics import ACTIVATION_BUCKETS, ACTIVATION_SECONDS


class MetricsUnavailable(Exception):
    """The Prometheus endpoint could not be started (e.g. its port is taken)."""


def metrics_runtime(bind: str) -> Runtime | None:
    """A runtime serving Prometheus metrics on `bind` (`host:port`); None when `bind` is empty."""
    if not bind:
        return None
    config = PrometheusConfig(
        bind_address=bind,
        # Our histogram's edges follow the policy windows (minutes to a day), not the SDK's
        # millisecond-oriented defaults.
        histogram_bucket_overrides={ACTIVATION_SECONDS: list(ACTIVATION_BUCKETS)},
    )
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=config))
    except ValueError as err:  # the SDK's "Failed starting Prometheus exporter: ..."
        raise MetricsUnavailable(f"UPGRADE_METRICS_BIND={bind}: {err}") from err


def metrics_url(bind: str) -> str:
    host, _, port = bind.rpartition(":")
    if host in ("0.0.0.0", "::", "[::]"):  # listening everywhere: reachable on loopback
        host = "127.0.0.1"
    return f"http://{host}:{port}/metrics"
