"""A held payment's custody on the time-skipping server, with its real activities against the
sandbox in-process: refunded after the grace period when nobody claims it, applied when an order
claims it, `not_charged` when the channel took nothing, and re-deliveries recorded once.

Started directly with its input: the time-skipping server has no update-with-start (the ingress's
way in, tested over HTTP against the dev server in `tests/ingress/test_custody_http.py`). Their
histories are `tests/histories/custody/` (`UPGRADE_RECORD_HISTORIES=1
UPGRADE_RECORD_HISTORIES_TO=custody pytest tests/workflows/test_custody.py`), replayed by
`tests/test_replay.py`.
"""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities import build_activities
from activities.custody import CustodyActivities
from activities.http import PlatformClient
from domain.custody import (
    GRACE,
    UNKNOWN_ORDER,
    CustodyActivity,
    CustodyState,
    CustodyStatus,
    HeldPayment,
    HeldReason,
    HeldRefundInput,
    HeldRefundResult,
    HoldAck,
    build_custody_input,
    custody_id,
)
from domain.models import PaymentMethod, PaymentNotice
from sandbox.app import create_app
from sandbox.store import Store
from service.worker_setup import build_worker
from tests.activities.helpers import FakeClock, asgi_client
from tests.support.saga_runs import record_histories
from tests.support.servers import skip
from workflows import search_attributes as sa
from workflows.custody import PaymentCustody, start_attributes

ALIPAY = PaymentMethod.ALIPAY
REFUND_EFFECT = "payments/refund_payment"
# A bound on a custody that would retry a refused refund forever (time skipping turns its hourly
# retries into a spin): reached only by a broken custody, never a verdict on a slow machine.
UNBOUNDED_RETRY_GUARD_S = 60


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def platform(tmp_path: Path, clock: FakeClock) -> AsyncIterator[PlatformClient]:
    store = Store(tmp_path / "sandbox.sqlite3")
    client = asgi_client(create_app(store, clock=clock, rng=random.Random(7)))
    yield client
    await client.aclose()
    store.close()


@pytest.fixture
async def worker(
    ts_env: WorkflowEnvironment, task_queue: str, platform: PlatformClient
) -> AsyncIterator[None]:
    async with build_worker(
        ts_env.client, task_queue=task_queue, activities=build_activities(platform)
    ):
        yield


def notice(txn: str, order_id: str = "ORD-GHOST", amount: str = "600.00") -> PaymentNotice:
    return PaymentNotice(order_id=order_id, transaction_id=txn, amount=Decimal(amount))


async def settle(platform: PlatformClient, txn: str, order_id: str = "ORD-GHOST") -> None:
    """The channel really holds the money (as `python -m sandbox settle` stages it)."""
    body = {"order_id": order_id, "method": "alipay", "amount": "600.00"}
    await platform.post(f"/v1/sandbox/transactions/{txn}/settle", body, f"settle-{txn}")


async def hold(
    env: WorkflowEnvironment, task_queue: str, held: HeldPayment
) -> WorkflowHandle[Any, Any]:
    inp = build_custody_input(ALIPAY, held, datetime.now(UTC))
    return await env.client.start_workflow(
        PaymentCustody.run,
        inp,
        id=custody_id(ALIPAY, held.notice.transaction_id),
        task_queue=task_queue,
        search_attributes=start_attributes(inp),
    )


async def result_of(handle: WorkflowHandle[Any, Any]) -> CustodyStatus:
    result = await handle.result()
    assert isinstance(result, CustodyStatus)
    return result


async def ledger(platform: PlatformClient, order_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = await platform.get("/v1/sandbox/ledger", {"order_id": order_id})
    return entries


async def money(platform: PlatformClient, txn: str) -> dict[str, Any]:
    rows: list[dict[str, Any]] = await platform.get("/v1/sandbox/money", None)
    [row] = [r for r in rows if r["transaction_id"] == txn]
    return row


def txn_id(kind: str) -> str:
    return f"txn-{kind}-{uuid.uuid4().hex[:8]}"


async def test_an_unclaimed_payment_is_refunded_after_the_grace_period(
    ts_env: WorkflowEnvironment, task_queue: str, platform: PlatformClient, worker: None
) -> None:
    txn = txn_id("orphan")
    await settle(platform, txn)
    held = HeldPayment(notice=notice(txn), reason=HeldReason.NOT_STARTED, detail="never started")
    handle = await hold(ts_env, task_queue, held)
    status = await handle.query(PaymentCustody.status)
    assert status.state is CustodyState.HOLDING
    assert status.grace_until - status.received_at >= GRACE - timedelta(seconds=5)

    final = await result_of(handle)
    assert final.state is CustodyState.REFUNDED, final
    assert final.refund is not None and final.refund.amount == Decimal("600.00")
    assert final.reasons == [HeldReason.NOT_STARTED] and final.ticket_id
    # A durable record an operator finds: the ticket (opened, then closed), the refund in the
    # ledger under the custody's id, the state as a search attribute.
    effects = [f"{e['system']}/{e['action']}" for e in await ledger(platform, handle.id)]
    assert effects == ["tickets/escalate", REFUND_EFFECT, "tickets/close_ticket"], effects
    described = await handle.describe()
    assert described.typed_search_attributes.get(sa.CUSTODY_STATE) == "refunded"
    row = await money(platform, txn)
    assert row["captured"] == "600.00" and [r["amount"] for r in row["refunds"]] == ["600.00"]
    await record_histories(ts_env.client, handle, "refunded-after-grace")


async def test_a_payment_whose_order_is_unknown_is_refunded_as_the_order_it_was_paid_for(
    ts_env: WorkflowEnvironment, task_queue: str, platform: PlatformClient, worker: None
) -> None:
    # The channels' own doors name only the transaction: custody holds it with a placeholder
    # order and must refund as the order the channel was paid for (the platform refuses a refund
    # from any other order; before, custody retried that refusal forever and kept the money).
    txn = txn_id("unknown")
    await settle(platform, txn, order_id="ORD-REAL")
    held = HeldPayment(notice=notice(txn, order_id=UNKNOWN_ORDER), reason=HeldReason.UNKNOWN_TRADE)
    handle = await hold(ts_env, task_queue, held)
    final = await asyncio.wait_for(result_of(handle), UNBOUNDED_RETRY_GUARD_S)
    assert final.state is CustodyState.REFUNDED and final.order_id == "ORD-REAL", final
    row = await money(platform, txn)
    assert [(r["amount"], r["order_id"]) for r in row["refunds"]] == [("600.00", "ORD-REAL")], row
    await record_histories(ts_env.client, handle, "unknown-trade-refunded")


async def test_a_payment_claimed_by_an_order_is_applied_not_refunded(
    ts_env: WorkflowEnvironment, task_queue: str, platform: PlatformClient, worker: None
) -> None:
    txn = txn_id("late")
    await settle(platform, txn, order_id="ORD-LATE")
    held = HeldPayment(notice=notice(txn, "ORD-LATE"), reason=HeldReason.NOT_STARTED)
    handle = await hold(ts_env, task_queue, held)
    # The order is started late: its run's reconciliation claims the transaction.
    await skip(ts_env, timedelta(hours=3))
    reconcile = {"account_id": "acct-l", "app_id": "app-l", "from_plan": "basic",
                 "transaction_id": txn}  # fmt: skip
    await platform.post("/v1/orders/ORD-LATE/reconcile", reconcile, f"k-{txn}")
    final = await result_of(handle)
    assert final.state is CustodyState.APPLIED and final.claimed_by == "ORD-LATE", final
    assert final.refund is None
    assert (await money(platform, txn))["refunds"] == []
    assert REFUND_EFFECT not in {f"{e['system']}/{e['action']}" for e in await ledger(
        platform, handle.id)}  # fmt: skip
    await record_histories(ts_env.client, handle, "claimed-by-late-order")


async def test_a_payment_the_channel_never_took_ends_not_charged(
    ts_env: WorkflowEnvironment,
    task_queue: str,
    platform: PlatformClient,
    clock: FakeClock,
    worker: None,
) -> None:
    # The channel says failed (`pay-fail`, past its delay): nothing to give back.
    txn = txn_id("pay-fail")
    query = {"order_id": "ORD-GHOST", "method": "alipay", "amount": "600.00"}
    await platform.get(f"/v1/payments/transactions/{txn}", query)
    clock.advance(minutes=2)
    held = HeldPayment(notice=notice(txn), reason=HeldReason.RUN_ENDED)
    handle = await hold(ts_env, task_queue, held)
    final = await result_of(handle)
    assert final.state is CustodyState.NOT_CHARGED, final
    assert (await money(platform, txn))["refunds"] == []
    await record_histories(ts_env.client, handle, "not-charged")


async def test_re_deliveries_are_recorded_once(
    ts_env: WorkflowEnvironment, task_queue: str, platform: PlatformClient, worker: None
) -> None:
    txn = txn_id("again")
    await settle(platform, txn)
    first = HeldPayment(notice=notice(txn), reason=HeldReason.NOT_STARTED)
    handle = await hold(ts_env, task_queue, first)
    again = await handle.execute_update(PaymentCustody.hold, first)
    assert isinstance(again, HoldAck)
    assert (again.result, again.state, again.custody_id) == (
        "duplicate", CustodyState.HOLDING, handle.id
    )  # fmt: skip
    later = HeldPayment(notice=notice(txn), reason=HeldReason.RUN_ENDED)
    assert (await handle.execute_update(PaymentCustody.hold, later)).result == "accepted"
    other = HeldPayment(notice=notice("txn-other"), reason=HeldReason.RUN_ENDED)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(PaymentCustody.hold, other)
    assert "transaction_id" in str(refused.value.cause)
    final = await result_of(handle)
    assert final.deliveries == 2
    assert final.reasons == [HeldReason.NOT_STARTED, HeldReason.RUN_ENDED]
    assert final.state is CustodyState.REFUNDED
    await record_histories(ts_env.client, handle, "re-delivered")


def test_custody_ids() -> None:
    from domain.custody import is_custody_id

    assert custody_id(ALIPAY, "txn-1") == "payment-alipay-txn-1"
    assert is_custody_id("payment-wechat_pay-x") and not is_custody_id("payment-1")
    with pytest.raises(ValueError, match="succeeded"):
        build_custody_input(
            ALIPAY,
            HeldPayment(notice=notice("t").model_copy(update={"status": "failed"}),
                        reason=HeldReason.RUN_ENDED),
            datetime.now(UTC),
        )  # fmt: skip


async def test_a_claim_that_lands_just_before_the_refund_wins(
    ts_env: WorkflowEnvironment, task_queue: str, platform: PlatformClient
) -> None:
    """The race: custody saw no claim, then an order claims the transaction, then custody
    refunds. The platform refuses that refund (claim and custody refund exclude each other) and
    custody ends `applied`: the payment is never both applied and refunded."""
    txn = txn_id("race")
    await settle(platform, txn, order_id="ORD-RACE")
    activities = build_activities(platform)
    custody = CustodyActivities(platform)

    @activity.defn(name=CustodyActivity.REFUND_HELD_PAYMENT)
    async def claim_then_refund(inp: HeldRefundInput) -> HeldRefundResult:
        reconcile = {"account_id": "acct-r", "app_id": "app-r", "from_plan": "basic",
                     "transaction_id": inp.transaction_id}  # fmt: skip
        await platform.post("/v1/orders/ORD-RACE/reconcile", reconcile, f"k-{inp.transaction_id}")
        return await custody.refund_held_payment(inp)

    racing = [
        a for a in activities if getattr(a, "__name__", "") != CustodyActivity.REFUND_HELD_PAYMENT
    ]
    async with build_worker(
        ts_env.client, task_queue=task_queue, activities=[*racing, claim_then_refund]
    ):
        held = HeldPayment(notice=notice(txn, "ORD-RACE"), reason=HeldReason.RUN_ENDED)
        handle = await hold(ts_env, task_queue, held)
        final = await result_of(handle)
        await record_histories(ts_env.client, handle, "claimed-before-refund")
    assert final.state is CustodyState.APPLIED and final.claimed_by == "ORD-RACE", final
    assert final.refund is None
    assert (await money(platform, txn))["refunds"] == []
