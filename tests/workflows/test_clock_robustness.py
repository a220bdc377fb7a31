"""Which commands the saga issues must not depend on the exact time a workflow task ran.

Temporal replays a run by executing its code again against the history, `workflow.now()` being
each workflow task's started time. The fault suite caught an original execution that ran one task
with the previous task's time (the dev server had been SIGKILLed and restarted while a billing call
was in flight): the propagating stage was recorded as starting seven seconds early, the ETA looked
overdue, and the run upserted `ActivationEta` after each propagation check, where a replay (with
the task's real time) did not. Every later replay of that history failed with a nondeterminism
error: the run's status query failed, and a run still in flight would have been stuck.

So the saga decides from events (activity results, timers, messages, stage changes), and time only
sets the values it records and the length of its timers. Each path below runs on the time-skipping
server with the fake platform; its history is then replayed once per workflow task with that
task's started time replaced by the previous task's (the stale clock seen), and every replay must
succeed.
"""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from domain.models import PaymentStatus
from domain.policy import resolve_policy
from domain.status import UpgradeStatus
from service.worker_setup import WORKFLOWS, workflow_runner
from tests.support.fakes import FakePlatform
from tests.support.saga_runs import fake_worker, make_order, start

WFT_STARTED = "EVENT_TYPE_WORKFLOW_TASK_STARTED"
# Replays per history: every task of a short history, an even sample of a long one.
MAX_PERTURBED_TASKS = 40


def with_stale_task(history_json: str, task: int) -> str:
    """The history with workflow task `task` (0-based, > 0) started at the previous task's time."""
    history = json.loads(history_json)
    started = [e for e in history["events"] if e["eventType"] == WFT_STARTED]
    started[task]["eventTime"] = started[task - 1]["eventTime"]
    return json.dumps(history)


async def stale_clock_failures(workflow_id: str, history_json: str) -> list[str]:
    tasks = sum(e["eventType"] == WFT_STARTED for e in json.loads(history_json)["events"])
    step = max(1, (tasks - 1) // MAX_PERTURBED_TASKS)
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    failures = []
    for task in range(1, tasks, step):
        history = WorkflowHistory.from_json(workflow_id, with_stale_task(history_json, task))
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures.append(f"task {task} of {tasks}: {result.replay_failure}")
    return failures


async def run_to_the_end(
    client: Client,
    task_queue: str,
    fake: FakePlatform,
    order_id: str,
    time_scale: float = 1.0,
    **order: object,
) -> str:
    placed = make_order(order_id, **order)  # type: ignore[arg-type]
    policy = resolve_policy(placed, datetime.now(UTC), time_scale)
    async with fake_worker(client, task_queue, fake):
        handle = await start(client, placed, task_queue, policy=policy)
        final = await handle.result()
        assert isinstance(final, UpgradeStatus) and final.stage.is_terminal
        history = await handle.fetch_history()
    return history.to_json()


@pytest.mark.parametrize(
    ("name", "fake", "order"),
    [
        pytest.param("plan", FakePlatform(), {}, id="plan"),
        pytest.param(
            "media", FakePlatform(), {"method": "bank_card", "features": ("video.fhd_1080p",)},
            id="media-quality",
        ),
        pytest.param(
            "capability", FakePlatform(), {"features": ("ai.conversational_multimodal",)},
            id="capability",
        ),
        # Late regions: checks 90 s apart for ~150 min, laggards re-pushed past the 30 min window,
        # the 2 h SLA escalation on the way.
        pytest.param("lag", FakePlatform(propagation_checks=100), {}, id="lag-sla-repush"),
        # The incident's shape: at 3600x a billing call slower than the propagation window
        # (0.5 s), so a stale clock at the next task makes the new stage look overdue.
        pytest.param(
            "slow", FakePlatform(billing_delay_s=1.5, propagation_checks=5),
            {"time_scale": 3600.0, "method": "bank_card", "features": ("video.fhd_1080p",)},
            id="slow-billing-at-3600x",
        ),
        # A payment polled for hours (overdue at 2 h) before the channel says it succeeded.
        pytest.param(
            "overdue",
            FakePlatform(payment_statuses=[PaymentStatus.PENDING] * 12 + [PaymentStatus.SUCCEEDED]),
            {"method": "bank_card"},
            id="payment-overdue-then-paid",
        ),
    ],
)  # fmt: skip
async def test_commands_do_not_depend_on_a_tasks_exact_time(
    ts_env: WorkflowEnvironment,
    task_queue: str,
    name: str,
    fake: FakePlatform,
    order: dict[str, Any],
) -> None:
    order_id = f"ORD-CLOCK-{name}-{task_queue}"
    history = await run_to_the_end(ts_env.client, task_queue, fake, order_id, **order)
    assert await stale_clock_failures(f"upgrade-{order_id}", history) == []


def test_the_perturbation_moves_exactly_one_task_back() -> None:
    events = [
        {"eventType": WFT_STARTED, "eventTime": "2026-01-01T00:00:00Z"},
        {"eventType": "EVENT_TYPE_TIMER_FIRED", "eventTime": "2026-01-01T00:00:05Z"},
        {"eventType": WFT_STARTED, "eventTime": "2026-01-01T00:00:06Z"},
        {"eventType": WFT_STARTED, "eventTime": "2026-01-01T00:00:09Z"},
    ]
    changed = json.loads(with_stale_task(json.dumps({"events": events}), 1))["events"]
    assert [e["eventTime"][-3:-1] for e in changed] == ["00", "05", "00", "09"]
