"""The worker's Prometheus endpoint, scraped over HTTP after real runs on the dev server: the saga's
counters and activation histogram with their labels and values, next to the SDK's own metrics; and
replaying the same histories records nothing more.

The runtime here is this test's own (a Prometheus exporter on a free port, like the worker's
`UPGRADE_METRICS_BIND`); the session's other clients keep the SDK default runtime, so the counts
below come from these runs only.
"""

import math
import socket
from dataclasses import dataclass

import httpx
import pytest
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from client import upgrades
from domain.models import Resolution, ResolutionAction
from domain.stages import Stage
from service.metrics_endpoint import MetricsUnavailable, metrics_runtime, metrics_url
from service.ports import free_port
from service.settings import load_settings
from service.temporal import connect
from service.worker_setup import workflow_runner
from tests.support.fakes import FakePlatform
from tests.support.polling import eventually
from tests.support.saga_runs import fake_worker, make_order
from workflows import metrics
from workflows.upgrade import UpgradeActivation

# The counts below say "exactly one escalation": at 60x the plan order's 30 min payment deadline
# is 30 s of wall time and the 2 h SLA two minutes, against a fake platform that answers at once
# (3600x would leave half a second: a loaded machine would add a payment_overdue escalation).
TIME_SCALE = 60.0


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def parse_exposition(text: str) -> list[Sample]:
    """The samples of a Prometheus text exposition (our label values contain no `,` or `"`)."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, rest = head.partition("{")
        labels = {}
        for pair in filter(None, rest.rstrip("}").split(",")):
            key, _, quoted = pair.partition("=")
            labels[key] = quoted.strip('"')
        samples.append(Sample(name, labels, float(value)))
    return samples


class Scrape:
    def __init__(self, samples: list[Sample]) -> None:
        self.samples = samples

    def value(self, name: str, **labels: str) -> float:
        """Sum of the samples of `name` whose labels include `labels` (0 when there is none)."""
        return sum(
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    def names(self) -> set[str]:
        return {s.name for s in self.samples}


async def scrape(url: str) -> Scrape:
    async with httpx.AsyncClient() as http:
        response = await http.get(url, timeout=5)
    response.raise_for_status()
    assert response.headers["content-type"].startswith("text/plain")
    return Scrape(parse_exposition(response.text))


@dataclass
class MetricsClient:
    client: Client
    runtime: Runtime
    url: str


@pytest.fixture
async def metered(dev_env: WorkflowEnvironment) -> MetricsClient:
    bind = f"127.0.0.1:{free_port()}"
    runtime = metrics_runtime(bind)
    assert runtime is not None
    address = dev_env.client.service_client.config.target_host
    client = await connect(address, dev_env.client.namespace, runtime=runtime)
    return MetricsClient(client, runtime, metrics_url(bind))


async def wait_for(url: str, name: str, expected: float, **labels: str) -> Scrape:
    """Scrape until `name{labels}` reaches `expected` (the worker records just before it reports
    the workflow task complete, so a result can arrive a moment before the sample)."""
    return await eventually(
        lambda: scrape(url),
        lambda latest: latest.value(name, **labels) >= expected,
        what=f"{name}{labels} >= {expected:g}",
        every=0.1,
    )


async def test_endpoint_serves_saga_and_sdk_metrics(
    metered: MetricsClient, task_queue: str
) -> None:
    client = metered.client
    fake = FakePlatform(capacity_refusals=1)
    plan = make_order(f"ORD-MET-PLAN-{task_queue}")
    capability = make_order(
        f"ORD-MET-CAP-{task_queue}",
        method="wechat_pay",
        features=("ai.conversational_multimodal",),
    )
    async with fake_worker(client, task_queue, fake):
        await upgrades.start_upgrade(client, plan, task_queue=task_queue, time_scale=TIME_SCALE)
        activated = await upgrades.wait_result(client, plan.order_id)
        await upgrades.start_upgrade(
            client, capability, task_queue=task_queue, time_scale=TIME_SCALE
        )
        # The capacity refusal parks it in needs_attention (one escalation); reject unwinds it.
        await eventually(
            lambda: upgrades.upgrade_status(client, capability.order_id),
            lambda status: status.stage is Stage.NEEDS_ATTENTION and bool(status.escalations),
            what=f"{capability.order_id} in needs_attention with its escalation",
            every=0.1,
        )
        await upgrades.resolve(
            client, capability.order_id, Resolution(action=ResolutionAction.REJECT, note="test")
        )
        rejected = await upgrades.wait_result(client, capability.order_id)
        found = await wait_for(
            metered.url, metrics.COMPENSATED, 1, task_queue=task_queue, outcome="failed"
        )
    assert activated.stage is Stage.ACTIVE and rejected.stage is Stage.FAILED
    ours = {"task_queue": task_queue, "workflow_type": "upgrade-activation"}

    assert found.value(metrics.STARTED, **ours, payment_method="alipay") == 1
    assert found.value(metrics.STARTED, **ours, payment_method="wechat_pay") == 1
    assert found.value(metrics.ACTIVATED, **ours, payment_method="alipay", change_kinds="plan") == 1
    assert found.value(metrics.ACTIVATED, **ours, payment_method="wechat_pay") == 0
    assert found.value(metrics.ESCALATED, **ours, reason="capacity_refused") == 1
    assert found.value(metrics.ESCALATED, **ours) == 1
    assert found.value(metrics.COMPENSATED, **ours, outcome="failed") == 1

    # One observation: payment confirmed → active of the plan order, in policy seconds.
    histogram = f"{metrics.ACTIVATION_SECONDS}_"
    assert found.value(histogram + "count", **ours) == 1
    confirmed, finished = activated.payment.confirmed_at, activated.finished_at
    assert confirmed is not None and finished is not None
    policy_seconds = (finished - confirmed).total_seconds() * TIME_SCALE
    assert math.isclose(found.value(histogram + "sum", **ours), policy_seconds, rel_tol=1e-6)
    edges = {s.labels["le"] for s in found.samples if s.name == histogram + "bucket"}
    assert {"900", "7200", "+Inf"} <= edges  # our policy-sized buckets, not the SDK defaults
    assert found.value(histogram + "bucket", **ours, le="+Inf") == 1

    # The SDK's own metrics on the same endpoint: both runs completed (a rejected upgrade is a
    # business outcome, the workflow itself returns normally).
    assert found.value("temporal_workflow_completed", **ours) == 2
    assert found.value("temporal_activity_execution_failed", task_queue=task_queue) >= 1
    assert "temporal_workflow_task_execution_latency_bucket" in found.names()

    # Replaying both histories with the same runtime records none of our metrics again.
    before = {n: found.value(n) for n in (metrics.STARTED, metrics.ACTIVATED, metrics.ESCALATED)}
    replayer = Replayer(
        workflows=[UpgradeActivation],
        workflow_runner=workflow_runner(),
        data_converter=client.data_converter,
        runtime=metered.runtime,
    )
    for order in (plan, capability):
        history = await client.get_workflow_handle(order.workflow_id).fetch_history()
        await replayer.replay_workflow(history)
    after = await scrape(metered.url)
    assert {n: after.value(n) for n in before} == before


def test_bind_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPGRADE_METRICS_BIND", "9464")
    with pytest.raises(ValidationError, match="metrics_bind"):
        load_settings()
    monkeypatch.setenv("UPGRADE_METRICS_BIND", "")
    assert load_settings().metrics_bind == ""
    assert metrics_runtime("") is None
    assert metrics_url("0.0.0.0:9464") == "http://127.0.0.1:9464/metrics"
    # A taken port is reported naming the variable, before anything connects.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        bind = f"127.0.0.1:{taken.getsockname()[1]}"
        with pytest.raises(MetricsUnavailable, match="UPGRADE_METRICS_BIND"):
            metrics_runtime(bind)
