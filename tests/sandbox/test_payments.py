"""The payment channel over HTTP: first sight, delays per method, tokens, review, refunds."""

import random
from pathlib import Path

import httpx
import pytest

from domain.effects import Effect
from sandbox.app import create_app
from sandbox.store import Store
from tests.sandbox.helpers import Api, FakeClock, reconcile_body

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
        "claimed_by": None,
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


async def test_a_second_full_refund_moves_no_more_money(api: Api, clock: FakeClock) -> None:
    await api.get(TX.format("tx-1"), **ORDER)
    clock.advance(minutes=1)
    first = await api.ok(TX.format("tx-1") + "/refunds", REFUND, key="k-refund-1")
    assert first["status"] == "refunded"
    assert first["refund_id"]
    assert (first["amount"], first["remaining"]) == ("600.00", "0.00")
    # The same key again is the same refund (idempotent on its key)...
    assert await api.ok(TX.format("tx-1") + "/refunds", REFUND, key="k-refund-1") == first
    # ... and another key finds nothing left to give back: capped, never refunded twice.
    again = await api.ok(TX.format("tx-1") + "/refunds", REFUND, key="k-refund-2")
    assert again == {
        "refund_id": None, "status": "already_refunded", "amount": "0.00", "remaining": "0.00"
    }  # fmt: skip
    ledger = await api.ledger("ORD-1")
    assert [(e["system"], e["action"], e["key"]) for e in ledger] == [
        (Effect.REFUND_PAYMENT.system, Effect.REFUND_PAYMENT.action, "k-refund-1")
    ]


async def test_partial_refunds_each_idempotent_and_capped(api: Api, clock: FakeClock) -> None:
    await api.get(TX.format("tx-part"), **ORDER)
    clock.advance(minutes=1)
    refunds = TX.format("tx-part") + "/refunds"
    surplus = await api.ok(refunds, REFUND | {"amount": "100.00"}, key="k-surplus")
    assert (surplus["status"], surplus["amount"], surplus["remaining"]) == (
        "refunded", "100.00", "500.00"
    )  # fmt: skip
    assert await api.ok(refunds, REFUND | {"amount": "100.00"}, key="k-surplus") == surplus
    second = await api.ok(refunds, REFUND | {"amount": "200.00"}, key="k-second")
    assert (second["amount"], second["remaining"]) == ("200.00", "300.00")
    assert second["refund_id"] != surplus["refund_id"]
    # Asking for more than is left gives back what is left, no more.
    rest = await api.ok(refunds, REFUND, key="k-rest")
    assert (rest["status"], rest["amount"], rest["remaining"]) == ("refunded", "300.00", "0.00")
    amounts = [e["detail"]["amount"] for e in await api.ledger("ORD-1")]
    assert amounts == ["100.00", "200.00", "300.00"]


async def test_a_refund_is_capped_at_what_a_short_payment_captured(
    api: Api, clock: FakeClock
) -> None:
    await api.get(TX.format("tx-pay-short-9"), **ORDER)
    clock.advance(minutes=1)
    body = await api.ok(TX.format("tx-pay-short-9") + "/refunds", REFUND)
    assert (body["amount"], body["remaining"]) == ("599.00", "0.00")


async def test_a_refund_by_an_order_that_does_not_own_the_transaction_is_refused(
    api: Api, clock: FakeClock
) -> None:
    await api.get(TX.format("tx-own"), **ORDER)
    clock.advance(minutes=1)
    refunds = TX.format("tx-own") + "/refunds"
    # Unclaimed: the order the channel was paid for owns it.
    stranger = await api.post(refunds, REFUND | {"order_id": "ORD-2"})
    assert stranger.status_code == 409, stranger.text
    error = stranger.json()["error"]
    assert (error["type"], error["field"]) == ("RefundRefused", "order_id")
    assert "belongs to order ORD-1" in error["message"]
    # Claimed by another order in reconciliation: only the claiming order may refund.
    await api.ok("/v1/orders/ORD-3/reconcile", reconcile_body(transaction_id="tx-own"))
    paid_for = await api.post(refunds, REFUND)
    assert paid_for.status_code == 409, paid_for.text
    assert "claimed by it" in paid_for.json()["error"]["message"]
    owner = await api.ok(refunds, REFUND | {"order_id": "ORD-3"})
    assert owner["status"] == "refunded"
    # A refused refund moved nothing.
    assert [e["order_id"] for e in await api.ledger() if e["action"] == "refund_payment"] == [
        "ORD-3"
    ]


async def test_custody_refunds_only_an_unclaimed_transaction_which_then_cannot_be_claimed(
    api: Api, clock: FakeClock
) -> None:
    held = REFUND | {"custody": "payment-alipay-tx-held", "reason": "held: order never started"}
    await api.get(TX.format("tx-held"), **ORDER)
    clock.advance(minutes=1)
    body = await api.ok(TX.format("tx-held") + "/refunds", held)
    assert body["status"] == "refunded"
    [entry] = await api.ledger("payment-alipay-tx-held")
    assert entry["detail"]["custody"] == "payment-alipay-tx-held"
    late = await api.post("/v1/orders/ORD-1/reconcile", reconcile_body(transaction_id="tx-held"))
    assert late.status_code == 409, late.text
    assert late.json()["error"]["field"] == "transaction_id"
    assert "refunded to the payer" in late.json()["error"]["message"]
    # The other way round: claimed first, the custody refund is refused (applied, not refunded).
    await api.get(TX.format("tx-claimed"), **ORDER)
    await api.ok("/v1/orders/ORD-1/reconcile", reconcile_body(transaction_id="tx-claimed"))
    refused = await api.post(TX.format("tx-claimed") + "/refunds", held)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["type"] == "RefundRefused"
    assert refused.json()["error"]["field"] == "transaction_id"


async def test_settle_captures_a_pending_or_failed_transaction_late(
    api: Api, clock: FakeClock
) -> None:
    await api.get(TX.format("tx-pay-never-5"), **ORDER)
    settled = await api.http.post(
        "/v1/sandbox/transactions/tx-pay-never-5/settle", json={"amount": "590.00"}
    )
    assert settled.status_code == 200, settled.text
    assert (settled.json()["status"], settled.json()["amount"]) == ("succeeded", "590.00")
    await api.get(TX.format("tx-pay-fail-5"), **ORDER)
    clock.advance(minutes=1)
    assert (await api.get(TX.format("tx-pay-fail-5")))["status"] == "failed"
    late = await api.http.post("/v1/sandbox/transactions/tx-pay-fail-5/settle", json={})
    assert late.json()["status"] == "succeeded"
    # Settling again: the same answer; with another amount: refused, naming it.
    again = await api.http.post("/v1/sandbox/transactions/tx-pay-fail-5/settle", json={})
    assert again.json() == late.json()
    other = await api.http.post(
        "/v1/sandbox/transactions/tx-pay-fail-5/settle", json={"amount": "1.00"}
    )
    assert other.status_code == 422 and other.json()["error"]["field"] == "amount"
    assert await api.ledger() == []  # admin, not a platform effect


async def test_settle_stages_money_for_an_order_nobody_started(api: Api) -> None:
    path = "/v1/sandbox/transactions/tx-orphan/settle"
    missing = await api.http.post(path, json={"amount": "600.00"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "order_id"
    body = {"amount": "600.00", "order_id": "ORD-GHOST", "method": "alipay"}
    held = await api.http.post(path, json=body)
    assert held.status_code == 200, held.text
    assert held.json() == {
        "transaction_id": "tx-orphan", "order_id": "ORD-GHOST", "status": "succeeded",
        "amount": "600.00", "currency": "CNY", "claimed_by": None,
    }  # fmt: skip
    money = await api.get("/v1/sandbox/money")
    assert [(m["transaction_id"], m["captured"], m["claimed_by"]) for m in money] == [
        ("tx-orphan", "600.00", None)
    ]
    # The channel holds it, so its refund is a real effect in the ledger.
    refund = await api.ok(TX.format("tx-orphan") + "/refunds", REFUND | {"order_id": "ORD-GHOST"})
    assert refund["status"] == "refunded"
    assert await api.effects("ORD-GHOST") == [Effect.REFUND_PAYMENT]


async def test_refund_of_a_failed_payment_has_nothing_to_give_back(
    api: Api, clock: FakeClock
) -> None:
    await api.get(TX.format("tx-pay-fail-2"), **ORDER)
    clock.advance(minutes=1)
    body = await api.ok(TX.format("tx-pay-fail-2") + "/refunds", REFUND)
    assert body == {
        "refund_id": None, "status": "not_charged", "amount": "0.00", "remaining": "0.00"
    }  # fmt: skip
    assert await api.ledger() == []


async def test_refund_of_a_transaction_never_polled(api: Api, tmp_path: Path) -> None:
    # Payment confirmed by notification only: the channel still refunds it.
    body = await api.ok(TX.format("tx-pushed") + "/refunds", REFUND)
    assert body["status"] == "refunded"
    assert await api.effects() == [Effect.REFUND_PAYMENT]
