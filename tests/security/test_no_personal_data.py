"""No personal data where Temporal cannot encrypt it: an upgrade with distinctive account, app and
transaction ids and a distinctive amount, driven through needs_attention (every search attribute
set, `Escalated` true) to `active`, shows none of them in its workflow id, its search attributes,
its memo, its listing or its static summary, at any point. The rule itself: tests/security/pii.py."""

import asyncio
import uuid

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from client import upgrades
from domain.models import Resolution, ResolutionAction, UpgradeOrder
from domain.stages import Stage
from tests.security.pii import leaks, personal_values, unencrypted_surfaces
from tests.support.fakes import FakePlatform
from tests.support.polling import eventually
from tests.support.saga_runs import fake_worker, make_order
from workflows import search_attributes as sa


async def check_surfaces(client: Client, order: UpgradeOrder) -> dict[str, int]:
    desc = await client.get_workflow_handle(order.workflow_id).describe()
    surfaces = unencrypted_surfaces(desc)
    for name, blobs in surfaces.items():
        assert leaks(order, blobs) == [], f"personal data in {name}"
    assert leaks(order, [await desc.static_summary() or ""]) == []
    rows = await upgrades.list_upgrades(client, f"WorkflowId = '{order.workflow_id}'")
    assert leaks(order, [repr(rows)]) == []
    return {name: len(blobs) for name, blobs in surfaces.items()}


async def test_ids_search_attributes_and_memo_carry_no_personal_data(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = dev_env.client
    tag = uuid.uuid4().hex[:8]
    order = make_order(
        f"ORD-PII-{tag}",
        to_plan="enterprise",
        features=("ai.conversational_multimodal", "video.uhd_4k"),  # 2597.00: capability + media
        account_id=f"acct-7x9-{tag}",
        app_id=f"app-q4w-{tag}",
        transaction_id=f"txn-k2m-{tag}",
    )
    # The values we look for are really distinctive: not part of the order id or any plan name.
    assert leaks(order, [order.order_id, order.summary, order.to_plan]) == []
    # ...and the search finds them where they are.
    assert leaks(order, [f"x{order.app_id}x", order.model_dump_json()]) == list(
        personal_values(order)
    )
    fake = FakePlatform(capacity_refusals=1)
    async with fake_worker(client, task_queue, fake):
        await upgrades.start_upgrade(client, order, task_queue=task_queue, time_scale=3600)
        handle = client.get_workflow_handle(order.workflow_id)

        # The stage is published before the ticket is opened and `Escalated` set: wait for both
        # (generous: the machine may be loaded; no timing is asserted).
        async def stage_and_flag() -> tuple[Stage, bool | None]:
            status = await upgrades.upgrade_status(client, order.order_id)
            escalated = (await handle.describe()).typed_search_attributes.get(sa.ESCALATED)
            return status.stage, escalated

        await eventually(
            stage_and_flag,
            lambda seen: seen == (Stage.NEEDS_ATTENTION, True),
            what=f"{order.order_id} in needs_attention with Escalated set",
            every=0.05,
        )
        waiting = await check_surfaces(client, order)
        await upgrades.resolve(client, order.order_id, Resolution(action=ResolutionAction.RETRY))
        final = await asyncio.wait_for(upgrades.wait_result(client, order.order_id), 180)
        assert final.stage is Stage.ACTIVE
        done = await check_surfaces(client, order)
    # Every one of our six search attributes was there to check (plus the server's own).
    assert waiting["search_attributes"] >= len(sa.ALL_KEYS)
    assert done["search_attributes"] >= len(sa.ALL_KEYS)
    print(f"\nchecked {list(personal_values(order))} against {done} (count of surfaces)")
