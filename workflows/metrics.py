"""The saga's business metrics, recorded through the workflow's metric meter.

`workflow.metric_meter()` is replay-safe: nothing is recorded while a worker replays history (after
a restart, a cache eviction, or in `tests/test_replay.py`), and recording adds no command to the
history, so these calls never change what the workflow does. The meter writes to the runtime of the
worker's client: with `UPGRADE_METRICS_BIND` set, the same Prometheus endpoint as the SDK's own
`temporal_*` metrics, each sample labelled with `namespace`, `task_queue` and `workflow_type` by
the SDK. Without a metrics runtime the calls are no-ops.

Boundary: names, labels and buckets of our metrics; the endpoint itself is `service.metrics_endpoint`.
Labels are low-cardinality on purpose (method, change kinds, reason, outcome): never an order id.
"""

from collections.abc import Iterable
from datetime import timedelta

from temporalio import workflow

STARTED = "upgrades_started"
ACTIVATED = "upgrades_activated"
ESCALATED = "upgrades_escalated"
COMPENSATED = "upgrades_compensated"
ACTIVATION_SECONDS = "upgrade_activation_seconds"

# Policy seconds from payment confirmed to active. The edges follow the activation windows: a plan
# change takes 15-30 min, an advanced permission 1-2 h, and 2 h is the activation SLA.
ACTIVATION_BUCKETS: tuple[float, ...] = (
    60, 300, 900, 1800, 2700, 3600, 5400, 7200, 10800, 14400, 21600, 43200, 86400,
)  # fmt: skip


def _kinds(change_kinds: Iterable[str]) -> str:
    return "+".join(sorted(str(kind) for kind in change_kinds))


def record_started(payment_method: str) -> None:
    workflow.metric_meter().create_counter(
        STARTED, "Upgrade sagas started (one per order; continue-as-new is not counted again)"
    ).add(1, {"payment_method": str(payment_method)})


def record_activated(
    payment_method: str, change_kinds: Iterable[str], activation: timedelta, time_scale: float
) -> None:
    """Count an activation and observe its duration in policy time.

    Under `UPGRADE_TIME_SCALE` the saga's clock runs `time_scale` times faster than the policy it
    stands for; the histogram reports the policy duration (elapsed x scale) so that its buckets and
    the 2 h SLA line mean the same thing in a 60x demo as in production (scale 1: wall time).
    """
    labels = {"payment_method": str(payment_method), "change_kinds": _kinds(change_kinds)}
    meter = workflow.metric_meter()
    meter.create_counter(ACTIVATED, "Upgrades that reached active").add(1, labels)
    meter.create_histogram_float(
        ACTIVATION_SECONDS,
        "Payment confirmed to active, in policy seconds (elapsed x UPGRADE_TIME_SCALE)",
        "s",
    ).record(max(activation.total_seconds(), 0.0) * time_scale, labels)


def record_escalated(reason: str) -> None:
    workflow.metric_meter().create_counter(
        ESCALATED, "Support tickets opened by the saga (at most one per order and reason)"
    ).add(1, {"reason": str(reason)})


def record_compensated(outcome: str) -> None:
    workflow.metric_meter().create_counter(
        COMPENSATED, "Upgrades that unwound their completed steps (and refunded when paid)"
    ).add(1, {"outcome": str(outcome)})
