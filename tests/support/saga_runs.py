"""Helpers for saga tests: orders, starting a run on a test server, a worker with fake activities,
and the opt-in recording of a finished run's histories for the replay test."""

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker
from temporalio.workflow import UpdateMethodMultiParam

from client.upgrades import _start_attributes
from domain.models import MessageAck, UpgradeOrder, catalog_price
from domain.upgrade_input import build_upgrade_input
from service.worker_setup import build_worker
from tests.support.fakes import FakePlatform
from workflows.upgrade import UpgradeActivation


def make_order(
    order_id: str = "ORD-1",
    *,
    method: str = "alipay",
    to_plan: str = "premium",
    features: tuple[str, ...] = (),
    **overrides: Any,
) -> UpgradeOrder:
    data: dict[str, Any] = {
        "order_id": order_id,
        # An account of its own: the account's lease entity runs on the task queue of the first
        # run that asked for it, and every test has a task queue of its own.
        "account_id": f"acct-{order_id}-{uuid.uuid4().hex[:6]}",
        "app_id": "app-1",
        "from_plan": "basic",
        "to_plan": to_plan,
        "features": features,
        "payment_method": method,
        "transaction_id": f"txn-{order_id}",
        "amount": catalog_price("basic", to_plan, features),
    }
    data.update(overrides)
    return UpgradeOrder.model_validate(data)


async def start(
    client: Client, order: UpgradeOrder, task_queue: str, **input_overrides: Any
) -> WorkflowHandle[Any, Any]:
    upgrade_input = build_upgrade_input(order, datetime.now(UTC)).model_copy(update=input_overrides)
    return await client.start_workflow(
        UpgradeActivation.run,
        upgrade_input,
        id=order.workflow_id,
        task_queue=task_queue,
        search_attributes=_start_attributes(order),
    )


Message = TypeVar("Message")


async def send(
    handle: WorkflowHandle[Any, Any],
    update: UpdateMethodMultiParam[[UpgradeActivation, Message], Any],
    message: Message,
) -> MessageAck:
    """Send one update and return its ack. `@workflow.update(name=...)` on an `async def` types
    the update's result as the handler's coroutine, so mypy would read an awaited
    `execute_update` as a coroutine never awaited; the ack's type is checked here instead."""
    ack = await handle.execute_update(update, message)
    assert isinstance(ack, MessageAck), ack
    return ack


@asynccontextmanager
async def fake_worker(client: Client, task_queue: str, fake: FakePlatform) -> AsyncIterator[Worker]:
    async with build_worker(client, task_queue=task_queue, activities=fake.activities()) as worker:
        yield worker


# Histories of the saga's branch-heavy paths at time scale 1 (every wait a durable timer), replayed
# by tests/test_replay.py next to the end-to-end ones (which run at 3600x, where most waits happen
# inside the checking activity). A folder of their own: `make histories` empties only the top one.
# `time_skipping/` holds the runs of the code before the clock-free decisions (`workflows.alarms`),
# `clock_free/` those after; `UPGRADE_RECORD_HISTORIES_TO` names the folder to write.
HISTORIES = Path(__file__).parents[1] / "histories"
RECORDED = HISTORIES / os.environ.get("UPGRADE_RECORD_HISTORIES_TO", "clock_free")


async def record_histories(client: Client, handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With `UPGRADE_RECORD_HISTORIES=1`, write the runs of a finished workflow (a chain of
    continue-as-new included) as `<name>.json`, or `<name>.run<N>.json` when there are several.

    Re-record only on purpose: these histories prove that a change does not alter the commands.
    """
    if os.environ.get("UPGRADE_RECORD_HISTORIES") != "1":
        return
    histories = []
    run_id = handle.first_execution_run_id
    while run_id is not None:
        history = await client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        histories.append(history)
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id or None
        )
    numbered = list(enumerate(histories, start=1))
    # Of a long chain, the first run (it escalates and continues), the second (a continued run
    # that continues again) and the last (how the chain ends): the ones between repeat the second.
    kept = numbered if len(numbered) <= 3 else [numbered[0], numbered[1], numbered[-1]]
    RECORDED.mkdir(parents=True, exist_ok=True)
    for number, history in kept:
        stem = name if len(histories) == 1 else f"{name}.run{number}"
        compact = json.dumps(json.loads(history.to_json()), separators=(",", ":"))
        (RECORDED / f"{stem}.json").write_text(compact, "utf-8")
