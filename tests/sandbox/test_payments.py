"""The payment channel over HTTP: first sight, delays per method, tokens, review, refunds."""

import random
from pathlib import Path

import httpx
import pytest

from domain.effects import Effect
from sandbox.app import create_app
from sandbox.store import Store
from tests.sandbox.helpers import Api, FakeClock

TX = "/v1/payments/transactions/{}"
ORDER = {"order_id": "ORD-1", "method": "alipay", "amount": "600.00", "currency": "CNY"}


async def test_a_new_transaction_needs_the_order_data(api: Api) -> None:
    response = await api.http.get(TX.format("tx-1"), params={"order_id": "ORD-1"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "method"


async def test_paid_in_full_after_the_method_delay(api: Api, clock: FakeClock) -> None:
    first = await api.get(TX.format("tx-1"), **ORDER)
    assert first == {
        "transaction_id": "tx-1",
        "order_id": "ORD-1",
        "status": "pending",
        "amount": "600.00",
        "currency": "CNY",
    }
    clock.advance(seconds=59)
    assert (await api.get(TX.format("tx-1")))["status"] == "pending"
    clock.advance(seconds=1)
    assert (await api.get(TX.format("tx-1")))["status"] == "succeeded"
    # Polling is a read: it never shows up in the ledger.
    assert await api.ledger() == []


async def test_amount_is_normalised_to_two_decimals(api: Api) -> None:
    body = await api.get(TX.format("tx-2"), **{**ORDER, "amount": "600"})
    assert body["amount"] == "600.00"


@pytest.mark.parametrize(
    ("method", "seconds"),
    [("wechat_pay", 60), ("bank_card", 300), ("corporate_transfer", 86_400)],
)
async def test_each_method_has_its_delay(
    api: Api, clock: FakeClock, method: str, seconds: int
) -> None:
    tx = TX.format(f"tx-{method}")
    assert (await api.get(tx, **{**ORDER, "method": method}))["status"] == "pending"
    clock.advance(seconds=seconds - 1)
    assert (await api.get(tx))["status"] == "pending"
    clock.advance(seconds=1)
    assert (await api.get(tx))["status"] == "succeeded"


async def test_time_scale_divides_the_delay(store: Store, clock: FakeClock) -> None:
    app = create_app(store, clock=clock, rng=random.Random(1), time_scale=60)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
    ) as http:
        assert (await http.get(TX.format("tx-3"), params=ORDER)).json()["status"] == "pending"
        clock.advance(seconds=1)
        assert (await http.get(TX.format("tx-3"))).json()["status"] == "succeeded"


async def test_pay_fail(api: Api, clock: FakeClock) -> None:
    tx = TX.format("tx-pay-fail-1")
    assert (await api.get(tx, **ORDER))["status"] == "pending"
    clock.advance(minutes=1)
    assert (await api.get(tx))["status"] == "failed"


async def test_pay_never(api: Api, clock: FakeClock) -> None:
    tx = TX.format("tx-pay-never-1")
    await api.get(tx, **ORDER)
    clock.advance(days=30)
    assert (await api.get(tx))["status"] == "pending"


async def test_pay_short_reports_one_less(api: Api, clock: FakeClock) -> None:
    tx = TX.format("tx-pay-short-1")
    await api.get(tx, **ORDER)
    clock.advance(minutes=1)
    body = await api.get(tx)
    assert (body["status"], body["amount"]) == ("succeeded", "599.00")


async def test_pay_review_waits_for_approval(api: Api, clock: FakeClock) -> None:
    tx = TX.format("tx-pay-review-1")
    await api.get(tx, **{**ORDER, "method": "corporate_transfer"})
    clock.advance(hours=24)
    assert (await api.get(tx))["status"] == "under_review"
    clock.advance(days=10)
    assert (await api.get(tx))["status"] == "under_review"

    approved = await api.http.post("/v1/sandbox/transactions/tx-pay-review-1/approve-review")
    assert approved.status_code == 200
    assert approved.json() == {"transaction_id": "tx-pay-review-1", "status": "succeeded"}
    assert (await api.get(tx))["status"] == "succeeded"
    # An admin action is not a saga effect.
    assert await api.ledger() == []


async def test_approve_review_refuses_unknown_and_ordinary_transactions(api: Api) -> None:
    unknown = await api.http.post("/v1/sandbox/transactions/tx-x/approve-review")
    assert unknown.status_code == 404
    await api.get(TX.format("tx-plain"), **ORDER)
    plain = await api.http.post("/v1/sandbox/transactions/tx-plain/approve-review")
    assert plain.status_code == 422
    assert plain.json()["error"]["type"] == "NotUnderReview"


REFUND = {"order_id": "ORD-1", "amount": "600.00", "currency": "CNY", "reason": "cancelled"}


async def test_refund_once_per_transaction(api: Api, clock: FakeClock) -> None:
    await api.get(TX.format("tx-1"), **ORDER)
    clock.advance(minutes=1)
    first = await api.ok(TX.format("tx-1") + "/refunds", REFUND, key="k-refund-1")
    assert first["status"] == "refunded"
    assert first["refund_id"]
    assert first["amount"] == "600.00"
    # A second refund, even under another key, gives the same refund and moves no more money.
    again = await api.ok(TX.format("tx-1") + "/refunds", REFUND, key="k-refund-2")
    assert again == first
    ledger = await api.ledger("ORD-1")
    assert [(e["system"], e["action"], e["key"]) for e in ledger] == [
        (Effect.REFUND_PAYMENT.system, Effect.REFUND_PAYMENT.action, "k-refund-1")
    ]


async def test_refund_of_a_failed_payment_has_nothing_to_give_back(
    api: Api, clock: FakeClock
) -> None:
    await api.get(TX.format("tx-pay-fail-2"), **ORDER)
    clock.advance(minutes=1)
    body = await api.ok(TX.format("tx-pay-fail-2") + "/refunds", REFUND)
    assert body == {"refund_id": None, "status": "not_charged", "amount": "0.00"}
    assert await api.ledger() == []


async def test_refund_of_a_transaction_never_polled(api: Api, tmp_path: Path) -> None:
    # Payment confirmed by notification only: the channel still refunds it.
    body = await api.ok(TX.format("tx-pushed") + "/refunds", REFUND)
    assert body["status"] == "refunded"
    assert await api.effects() == [Effect.REFUND_PAYMENT]
