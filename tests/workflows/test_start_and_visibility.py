"""On the dev server (what the time-skipping server lacks): idempotent starts with id policies,
the static summary and current details an operator sees, search attributes, listing."""

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from client import upgrades
from domain.models import PaymentStatus
from domain.stages import Stage
from tests.support.fakes import FakePlatform
from tests.support.polling import eventually
from tests.support.saga_runs import fake_worker, make_order
from workflows import search_attributes as sa

pytestmark = pytest.mark.asyncio


async def test_start_is_idempotent_running_and_closed(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = dev_env.client
    fake = FakePlatform()
    order = make_order(f"ORD-IDEM-{task_queue}")
    async with fake_worker(client, task_queue, fake):
        first = await upgrades.start_upgrade(client, order, task_queue=task_queue, time_scale=3600)
        second = await upgrades.start_upgrade(client, order, task_queue=task_queue, time_scale=3600)
        assert first.created and not second.created
        assert second.run_id == first.run_id
        final = await upgrades.wait_result(client, order.order_id)
        assert final.stage is Stage.ACTIVE
        # After the run closed: still the same run reported, nothing new started.
        third = await upgrades.start_upgrade(client, order, task_queue=task_queue, time_scale=3600)
    assert not third.created and third.run_id == first.run_id
    assert fake.effects.count("billing") == 1


async def test_operator_view_summary_details_and_attributes(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = dev_env.client
    fake = FakePlatform(payment_statuses=[PaymentStatus.PENDING])
    order = make_order(f"ORD-VIEW-{task_queue}", method="bank_card")
    async with fake_worker(client, task_queue, fake):
        await upgrades.start_upgrade(client, order, task_queue=task_queue)
        status = await upgrades.upgrade_status(client, order.order_id)
        assert status.stage is Stage.AWAITING_PAYMENT
        assert status.eta.earliest is not None and status.eta.latest is not None
        handle = client.get_workflow_handle(order.workflow_id)
        desc = await handle.describe()
        assert await desc.static_summary() == order.summary
        assert "changes: plan" in (await desc.static_details() or "")
        attrs = desc.typed_search_attributes
        assert attrs.get(sa.UPGRADE_STAGE) == "awaiting_payment"
        assert attrs.get(sa.PAYMENT_METHOD) == "bank_card"
        assert attrs.get(sa.TARGET_PLAN) == "premium"
        assert attrs.get(sa.ESCALATED) is False
        assert attrs.get(sa.ACTIVATION_ETA) is not None
        # The personal-data rule: ids and attributes carry no account or app identifiers.
        assert order.account_id not in str(attrs) and order.app_id not in order.workflow_id
        await handle.cancel()
        desc = await eventually(
            handle.describe,
            lambda d: d.status != WorkflowExecutionStatus.RUNNING,
            what=f"{order.workflow_id} closed after the cancel",
            every=0.1,
        )
    assert desc.status == WorkflowExecutionStatus.CANCELED
    assert desc.typed_search_attributes.get(sa.UPGRADE_STAGE) == Stage.CANCELLED.value


async def test_list_finds_runs_by_stage(dev_env: WorkflowEnvironment, task_queue: str) -> None:
    client = dev_env.client
    fake = FakePlatform(capacity_refusals=1)
    order = make_order(f"ORD-LIST-{task_queue}", features=("ai.conversational_multimodal",))
    async with fake_worker(client, task_queue, fake):
        await upgrades.start_upgrade(client, order, task_queue=task_queue, time_scale=3600)
        query = f"UpgradeStage = 'needs_attention' AND WorkflowId = '{order.workflow_id}'"
        # The stage is upserted on entering needs_attention, `Escalated` once the ticket is open:
        # two upserts, so a listing can see the first without the second. Wait for both.
        rows = await eventually(
            lambda: upgrades.list_upgrades(client, query),
            lambda found: bool(found) and found[0].escalated is True,
            what=f"{order.workflow_id} listed in needs_attention, escalated (visibility is eventual)",
            every=0.1,
        )
        assert [r.workflow_id for r in rows] == [order.workflow_id]
        assert rows[0].escalated is True
        await client.get_workflow_handle(order.workflow_id).terminate("test over")
