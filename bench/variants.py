"""How each variant drives one upgrade from the client, the same way for all of them.

Every upgrade is driven like the backend drives a real one: start it (idempotent start, with the
saga's id-conflict and id-reuse policies, search attributes and summary), deliver the payment
notification (the `confirm_payment` update), read its `status` once (what a console does after
paying), wait for the result. B2 has no update or query: it is started and awaited.

REAL orders use the production policy (time scale 1: every wait a durable timer, the 2 h SLA and
30 min payment deadline far beyond any run), a unique account and app (the sandbox tracks plans
per account), and a transaction carrying the sandbox's `pay-never` token, so that on REAL-http,
as on REAL-inproc, the payment arrives by notification and not by an early poll.

Boundary: client calls only (the saga's own `client.upgrades` for REAL); nothing is timed here.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from bench.baseline_lease import b3_entity_id
from bench.baselines import OneActivity, SagaShaped
from bench.shape import SagaSizes, b3_input, blob
from bench.worker_process import task_queue
from client import upgrades
from domain.lease import lease_workflow_id
from domain.models import PaymentMethod, PaymentNotice, UpgradeOrder, catalog_price

Drive = Callable[[Client, str], Awaitable[None]]


def bench_order(order_id: str, method: PaymentMethod = PaymentMethod.ALIPAY) -> UpgradeOrder:
    suffix = order_id.lower()
    return UpgradeOrder(
        order_id=order_id,
        account_id=f"acct-{suffix}",
        app_id=f"app-{suffix}",
        from_plan="basic",
        to_plan="premium",
        payment_method=method,
        transaction_id=f"txn-{suffix}-pay-never",
        amount=catalog_price("basic", "premium", ()),
    )


def notice_for(order: UpgradeOrder) -> PaymentNotice:
    return PaymentNotice(
        order_id=order.order_id, transaction_id=order.transaction_id, amount=order.amount
    )


async def start_real(client: Client, order: UpgradeOrder, variant: str) -> None:
    await upgrades.start_upgrade(
        client, order, task_queue=task_queue(variant), now=datetime.now(UTC)
    )


def real_drive(variant: str) -> Drive:
    async def drive(client: Client, order_id: str) -> None:
        order = bench_order(order_id)
        await start_real(client, order, variant)
        ack = await upgrades.confirm_payment(client, notice_for(order))
        if ack.result != "accepted":
            raise RuntimeError(f"{order_id}: payment notice {ack.result}: {ack.detail}")
        await upgrades.upgrade_status(client, order_id)
        final = await upgrades.wait_result(client, order_id)
        if final.stage != "active":
            raise RuntimeError(f"{order_id}: ended {final.stage}: {final.reason}")

    return drive


async def drive_b2(client: Client, order_id: str) -> None:
    handle = await client.start_workflow(
        OneActivity.run, id=f"b2-{order_id}", task_queue=task_queue("B2")
    )
    await handle.result()


def b3_drive(sizes: SagaSizes) -> Drive:
    workflow_input = b3_input(sizes)
    notice = blob(sizes.update.input_bytes)

    async def drive(client: Client, order_id: str) -> None:
        order = bench_order(order_id)
        handle = await client.start_workflow(
            SagaShaped.run,
            workflow_input,
            id=f"b3-{order_id}",
            task_queue=task_queue("B3"),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=upgrades._start_attributes(order),
            static_summary=order.summary,
            static_details=f"order `{order.order_id}`, {order.amount} {order.currency}",
        )
        await handle.execute_update(SagaShaped.confirm_payment, notice)
        await handle.query(SagaShaped.status)
        await handle.result()

    return drive


def workflow_id(variant: str, order_id: str) -> str:
    """The id of the run that `order_id` drives in `variant` (for fetching its history)."""
    if variant == "B2":
        return f"b2-{order_id}"
    if variant == "B3":
        return f"b3-{order_id}"
    return bench_order(order_id).workflow_id


def lease_entity_id(variant: str, order_id: str) -> str | None:
    """The account entity that `order_id`'s run asked for its account (None: B2 has no lease)."""
    if variant == "B2":
        return None
    if variant == "B3":
        return b3_entity_id(workflow_id(variant, order_id))
    return lease_workflow_id(bench_order(order_id).account_id)


@dataclass(frozen=True)
class Variant:
    name: str
    drive: Drive


def variants(sizes: SagaSizes) -> list[Variant]:
    return [
        Variant("B2", drive_b2),
        Variant("B3", b3_drive(sizes)),
        Variant("REAL-inproc", real_drive("REAL-inproc")),
        Variant("REAL-http", real_drive("REAL-http")),
    ]
