"""The channels' own doors over real HTTP: `python -m ingress` configured with keys of our own
choosing, in front of a dev server, a worker and the sandbox (LiveStack), at 3600x.

Notices are built by the channels' SDKs (python-alipay-sdk signs Alipay's form, wechatpayv3
signs WeChat Pay's v3 envelope, `cryptography`'s AESGCM seals its resource), as the other party
would. Orders carry a `pay-never` transaction: the sandbox never answers a poll, so only the
notices move them, and `payment.via == "notification"` says no poll decided.

Every answer is the channel's own: Alipay's 7 bytes `success` or `fail: <why>`; WeChat's 204 or
`{"code": "FAIL", "message": ...}`.
"""

import asyncio
import json
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from channels.keys import generate_private_key, private_key_pem, public_key_pem
from client import payment_orders
from client.ack_journal import AckJournal, read_acks
from client.review_store import REVIEW_FILENAME
from ingress.settings import DEV_BACKEND_TOKEN
from tests.channels.vectors import (
    APIV3_KEY,
    APP_ID,
    APPID,
    MCHID,
    PUBLIC_KEY_ID,
    SELLER_ID,
    alipay_body,
    alipay_params,
    alipay_sdk,
    envelope,
    refund,
    transaction,
    wechat_core,
    wechat_headers,
)
from tests.support.live_stack import LiveStack
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

TIME_SCALE = 3600
BACKEND = {"Authorization": f"Bearer {DEV_BACKEND_TOKEN}"}
ALIPAY = "/v1/payments/alipay/notify"
WECHAT = "/v1/payments/wechat_pay/notify"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ENDED = {"active", "failed", "cancelled", "expired", "needs_attention"}

_ALIPAY_KEY = generate_private_key()
_WECHAT_KEY = generate_private_key()
ALIPAY_PRIVATE, ALIPAY_PUBLIC = (
    private_key_pem(_ALIPAY_KEY),
    public_key_pem(_ALIPAY_KEY.public_key()),
)
WECHAT_PRIVATE, WECHAT_PUBLIC = (
    private_key_pem(_WECHAT_KEY),
    public_key_pem(_WECHAT_KEY.public_key()),
)
KEYS_ENV = {
    "UPGRADE_ALIPAY_APP_ID": APP_ID,
    "UPGRADE_ALIPAY_SELLER_ID": SELLER_ID,
    "UPGRADE_ALIPAY_PUBLIC_KEY": ALIPAY_PUBLIC,
    "UPGRADE_WECHATPAY_MCHID": MCHID,
    "UPGRADE_WECHATPAY_APPID": APPID,
    "UPGRADE_WECHATPAY_APIV3_KEY": APIV3_KEY,
    "UPGRADE_WECHATPAY_PUBLIC_KEY": WECHAT_PUBLIC,
    "UPGRADE_WECHATPAY_PUBLIC_KEY_ID": PUBLIC_KEY_ID,
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    live = LiveStack(data_dir=tmp_path_factory.mktemp("doors"), time_scale=TIME_SCALE)
    try:
        live.start(ingress=True, ingress_env=KEYS_ENV)
        yield live
    finally:
        live.stop()


@pytest.fixture
async def http(stack: LiveStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.ingress_url, timeout=30) as client:
        yield client


def txn(order_id: str) -> str:
    return f"txn-pay-never-{order_id}"


async def start(http: httpx.AsyncClient, order_id: str, method: str) -> None:
    body = {
        "order_id": order_id,
        "account_id": f"acct-{order_id}",
        "app_id": f"app-{order_id}",
        "from_plan": "basic",
        "to_plan": "premium",
        "features": [],
        "payment_method": method,
        "transaction_id": txn(order_id),
        "amount": "600.00",
        "currency": "CNY",
    }
    response = await http.post("/v1/upgrades", json=body, headers=BACKEND)
    assert response.status_code == 201, response.text


async def findable(stack: LiveStack, order_id: str) -> None:
    """Wait until visibility lists the run by its transaction (a door finds it from then on)."""
    client = await stack.client()
    await eventually(
        lambda: payment_orders.orders_paid_by(client, txn(order_id)),
        lambda orders: len(orders) == 1,
        what=f"{order_id} listed by its transaction",
    )


async def status(http: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    response = await http.get(f"/v1/upgrades/{order_id}", headers=BACKEND)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def alipay(order_id: str, **overrides: str) -> bytes:
    params = alipay_params(
        out_trade_no=txn(order_id),
        total_amount="600.00",
        receipt_amount="600.00",
        notify_id=uuid.uuid4().hex,
    )
    params.update(overrides)
    return alipay_body(alipay_sdk(ALIPAY_PRIVATE, ALIPAY_PUBLIC), params)


def wechat(
    resource: dict[str, Any], event: str = "TRANSACTION.SUCCESS", **options: Any
) -> tuple[bytes, dict[str, str]]:
    data = json.loads(envelope(resource, event, key=options.get("key", APIV3_KEY)))
    data["id"] = f"EV-{uuid.uuid4().hex}"
    body = json.dumps(data, ensure_ascii=False).encode()
    core = wechat_core(WECHAT_PRIVATE, WECHAT_PUBLIC)
    headers = wechat_headers(core, body, timestamp=options.get("timestamp", int(time.time())))
    return body, headers | {"Content-Type": "application/json"}


def paid(order_id: str, fen: int = 60000, **overrides: Any) -> dict[str, Any]:
    amount = {"total": fen, "payer_total": fen, "currency": "CNY", "payer_currency": "CNY"}
    return transaction(out_trade_no=txn(order_id), amount=amount, **overrides)


async def post_alipay(http: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await http.post(ALIPAY, content=body, headers=FORM)


async def post_wechat(
    http: httpx.AsyncClient, sent: tuple[bytes, dict[str, str]]
) -> httpx.Response:
    return await http.post(WECHAT, content=sent[0], headers=sent[1])


def assert_success(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.content == b"success"  # the 7 bytes, no quotes, no JSON


def assert_alipay_fail(response: httpx.Response, status_code: int) -> None:
    assert response.status_code == status_code, response.text
    assert response.content.startswith(b"fail: ")


def assert_wechat_fail(response: httpx.Response, status_code: int) -> None:
    assert response.status_code == status_code, response.text
    assert response.json()["code"] == "FAIL" and response.json()["message"]


async def assert_untouched(http: httpx.AsyncClient, order_id: str) -> None:
    current = await status(http, order_id)
    assert current["stage"] == "awaiting_payment", current
    assert current["payment"]["status"] == "pending" and current["payment"]["notices"] == 0


def kept_notices(stack: LiveStack) -> list[sqlite3.Row]:
    with sqlite3.connect(stack.data_dir / REVIEW_FILENAME) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM channel_notices").fetchall()


def accepted_notices(stack: LiveStack, order_id: str) -> int:
    acks, _ = read_acks(AckJournal.in_dir(stack.data_dir).path)
    return sum(
        1 for a in acks if a.order_id == order_id and (a.kind, a.result) == ("notice", "accepted")
    )


async def test_an_alipay_payment_is_success_once_and_the_order_goes_active(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "ALI-PAID"
    await start(http, order_id, "alipay")
    await findable(stack, order_id)
    body = alipay(order_id)
    assert_success(await post_alipay(http, body))
    # The same notice again (Alipay re-sends with the same notify_id), and TRADE_FINISHED later.
    assert_success(await post_alipay(http, body))
    assert_success(await post_alipay(http, alipay(order_id, trade_status="TRADE_FINISHED")))
    final = await eventually(
        lambda: status(http, order_id), lambda s: s["stage"] in ENDED, what="the run to end"
    )
    assert final["stage"] == "active", final
    assert final["payment"]["via"] == "notification" and final["payment"]["notices"] == 1
    # Alipay's own trade number is recorded on the payment.
    assert final["payment"]["channel_reference"] == "2026052822001400000000000001"
    assert accepted_notices(stack, order_id) == 1
    # After the end, a re-delivery is still answered as handled.
    assert_success(await post_alipay(http, body))


async def test_alipay_refusals_change_nothing(http: httpx.AsyncClient, stack: LiveStack) -> None:
    order_id = "ALI-WAIT"
    await start(http, order_id, "alipay")
    await findable(stack, order_id)
    tampered = alipay(order_id).replace(b"total_amount=600.00", b"total_amount=0.01")
    assert_alipay_fail(await post_alipay(http, tampered), 401)
    foreign = alipay_body(
        alipay_sdk(private_key_pem(generate_private_key()), ALIPAY_PUBLIC),
        alipay_params(out_trade_no=txn(order_id), total_amount="600.00"),
    )
    assert_alipay_fail(await post_alipay(http, foreign), 401)
    assert_alipay_fail(await post_alipay(http, alipay(order_id, seller_id="2088999999999999")), 403)
    # (A paid notice for another amount, or for a trade no upgrade carries, is money taken: held
    # in custody, not refused: `test_channel_doors_custody_http.py`.)
    assert_alipay_fail(await post_alipay(http, b"a=" + b"x" * 40_000), 413)
    # Refunds: recorded, answered as handled, never a failed payment.
    partial = alipay(order_id, refund_fee="100.00", out_biz_no="rf-1")
    assert_success(await post_alipay(http, partial))
    assert_success(await post_alipay(http, partial))  # its re-send: one record
    full = alipay(order_id, trade_status="TRADE_CLOSED", refund_fee="600.00", out_biz_no="rf-2")
    assert_success(await post_alipay(http, full))
    await assert_untouched(http, order_id)
    mine = [row for row in kept_notices(stack) if row["order_id"] == order_id]
    assert Counter(row["kind"] for row in mine) == {"refund": 2}, [dict(r) for r in mine]
    assert {row["refund_amount"] for row in mine if row["kind"] == "refund"} == {"100.00", "600.00"}


async def test_wechat_pay_refusals_change_nothing(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "WX-WAIT"
    await start(http, order_id, "wechat_pay")
    await findable(stack, order_id)
    assert_wechat_fail(
        await post_wechat(http, wechat(paid(order_id), timestamp=int(time.time()) - 400)), 401
    )
    probe = wechat(paid(order_id))
    probe[1]["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + "A" * 300
    assert_wechat_fail(await post_wechat(http, probe), 401)
    assert_wechat_fail(await post_wechat(http, wechat(paid(order_id), key="k" * 32)), 400)
    assert_wechat_fail(await post_wechat(http, wechat(paid(order_id, mchid="1900000999"))), 403)
    assert_wechat_fail(
        await post_wechat(http, wechat(paid(order_id, appid="wx0000000000000000"))), 403
    )
    # A trade closed unpaid for no upgrade we know: nothing was taken, refused (WeChat re-sends).
    closed = paid("NOBODY", trade_state="CLOSED")
    assert_wechat_fail(await post_wechat(http, wechat(closed, "TRANSACTION.CLOSED")), 404)
    refunded = refund(
        out_trade_no=txn(order_id),
        amount={"total": 60000, "refund": 60000, "payer_total": 60000, "payer_refund": 60000},
    )
    answer = await post_wechat(http, wechat(refunded, "REFUND.SUCCESS"))
    assert answer.status_code == 204 and answer.content == b"", answer.text
    await assert_untouched(http, order_id)
    # A refund of a trade no run is found for: recorded for a person, answered as handled.
    stray = refund(out_trade_no="txn-unknown-refund")
    assert (await post_wechat(http, wechat(stray, "REFUND.SUCCESS"))).status_code == 204
    kept = [row for row in kept_notices(stack) if row["out_trade_no"] == "txn-unknown-refund"]
    assert [(row["kind"], row["order_id"]) for row in kept] == [("refund", None)]


async def test_ten_concurrent_copies_of_a_wechat_notice_give_one_payment(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "WX-TEN"
    await start(http, order_id, "wechat_pay")
    await findable(stack, order_id)
    sent = wechat(paid(order_id))
    answers = await asyncio.gather(*(post_wechat(http, sent) for _ in range(10)))
    # Each copy is acknowledged, or (on a machine too busy to record it within the answer budget)
    # refused with WeChat's FAIL so that the channel sends it again, as it would: re-sent here.
    for answer in answers:
        if answer.status_code != 204:
            assert answer.status_code == 503 and answer.json()["code"] == "FAIL", answer.text
            await eventually(
                lambda: post_wechat(http, sent), lambda r: r.status_code == 204, what="a re-send"
            )
    final = await eventually(
        lambda: status(http, order_id), lambda s: s["stage"] in ENDED, what="the run to end"
    )
    assert final["stage"] == "active", final
    assert final["payment"]["via"] == "notification" and final["payment"]["notices"] == 1
    assert final["payment"]["channel_reference"] == "4200000000202605280000000001"
    assert accepted_notices(stack, order_id) == 1
