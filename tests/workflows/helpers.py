"""Helpers for saga tests: orders, starting a run on a test server, a worker with fake activities."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from client.upgrades import _start_attributes
from domain.models import UpgradeOrder, catalog_price
from domain.upgrade_input import build_upgrade_input
from service.worker_setup import build_worker
from tests.fakes import FakePlatform
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
        "account_id": "acct-1",
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


@asynccontextmanager
async def fake_worker(client: Client, task_queue: str, fake: FakePlatform) -> AsyncIterator[Worker]:
    async with build_worker(client, task_queue=task_queue, activities=fake.activities()) as worker:
        yield worker
