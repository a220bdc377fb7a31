"""The sandbox playing Alipay and WeChat Pay: notifications of settled payments, verified here
by the merchant's own verifiers (`channels`), re-sent on the channel's schedule until answered
as the channel expects, and announced before the query API shows the payment.

In process: the sandbox app on a tmp store with a hand-moved clock, the merchant a
`httpx.MockTransport` that verifies each request and answers as told.
"""

from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from channels.alipay import AlipayMerchant, AlipayVerifier
from channels.answers import ALIPAY_RESEND_S, WECHAT_RESEND_S
from channels.keys import generate_private_key, private_key_pem
from channels.notices import NoticeKind
from channels.wechat_pay import WechatPayKeyStore, WechatPayMerchant, WechatPayVerifier
from sandbox import notifier
from sandbox.channel_signers import AlipaySigner, NotifierSettings, Signer, WechatPaySigner
from sandbox.store import Store
from tests.sandbox.helpers import Api, FakeClock

TX = "/v1/payments/transactions/{}"
APIV3 = "0123456789abcdefghijklmnopqrstuv"
KEY_ID = "PUB_KEY_ID_0000000000000000000000000000TEST"
_ALIPAY, _WECHAT = generate_private_key(), generate_private_key()
ALIPAY_VERIFIER = AlipayVerifier(
    AlipayMerchant(app_id="2021", seller_id="2088"), _ALIPAY.public_key()
)
_STORE = WechatPayKeyStore()
_STORE.add_public_key(KEY_ID, _WECHAT.public_key())
WECHAT_VERIFIER = WechatPayVerifier(
    WechatPayMerchant(mchid="1900", appid="wx1", apiv3_key=SecretStr(APIV3)), _STORE
)


class Merchant:
    """The ingress as the channel sees it: verifies, records, answers from a script."""

    def __init__(self, answers: list[tuple[int, bytes]]) -> None:
        self.answers = answers
        self.notices: list[tuple[str, NoticeKind, str, Decimal]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        if request.url.path.endswith("/alipay/notify"):
            notice = ALIPAY_VERIFIER.open_notice(body)
        else:
            notice = WECHAT_VERIFIER.open_notice(dict(request.headers), body)
        self.notices.append((notice.notice_id, notice.kind, notice.out_trade_no, notice.amount))
        status, content = self.answers.pop(0) if self.answers else (200, b"success")
        return httpx.Response(status, content=content)


def make_notifier(store: Store, clock: FakeClock, merchant: Merchant) -> notifier.ChannelNotifier:
    notifier.install(store)
    signers: list[Signer] = [
        AlipaySigner(private_key_pem(_ALIPAY), "2021", "2088"),
        WechatPaySigner(private_key_pem(_WECHAT), KEY_ID, "1900", "wx1", SecretStr(APIV3)),
    ]
    http = httpx.AsyncClient(transport=httpx.MockTransport(merchant))
    return notifier.ChannelNotifier(
        store, signers, "http://ingress", clock=clock, time_scale=1.0, http=http
    )


@pytest.fixture
def held_app(app: FastAPI) -> Callable[[notifier.ChannelNotifier], None]:
    def hold(channels: notifier.ChannelNotifier) -> None:
        app.state.sandbox.held_channels = channels.channels

    return hold


async def test_an_alipay_payment_is_announced_first_and_resent_until_success(
    api: Api,
    store: Store,
    clock: FakeClock,
    held_app: Callable[[notifier.ChannelNotifier], None],
) -> None:
    merchant = Merchant([(503, b"fail: not recorded"), (200, b"success")])
    channels = make_notifier(store, clock, merchant)
    held_app(channels)
    order = {"order_id": "ORD-1", "method": "alipay", "amount": "19.99", "currency": "CNY"}
    assert (await api.get(TX.format("tx-a"), **order))["status"] == "pending"
    assert await channels.tick() == 0  # not settled yet
    clock.advance(seconds=60)
    # Settled, but the query API waits for the notification.
    assert (await api.get(TX.format("tx-a")))["status"] == "pending"
    assert await channels.tick() == 1
    assert merchant.notices[0][1:] == (NoticeKind.PAID, "tx-a", Decimal("19.99"))
    assert (await api.get(TX.format("tx-a")))["status"] == "pending"  # refused once: still held
    clock.advance(seconds=ALIPAY_RESEND_S[0] - 1)
    assert await channels.tick() == 0  # Alipay waits 4 minutes before the next send
    clock.advance(seconds=1)
    assert await channels.tick() == 1
    assert merchant.notices[1][0] == merchant.notices[0][0]  # the same notify_id on a re-send
    assert (await api.get(TX.format("tx-a")))["status"] == "succeeded"
    clock.advance(hours=30)
    assert await channels.tick() == 0  # answered: never sent again
    assert len(merchant.notices) == 2


async def test_wechat_pay_accepts_204_and_gives_up_after_its_schedule(
    api: Api,
    store: Store,
    clock: FakeClock,
    held_app: Callable[[notifier.ChannelNotifier], None],
) -> None:
    merchant = Merchant([(204, b"")])
    channels = make_notifier(store, clock, merchant)
    held_app(channels)
    order = {"order_id": "ORD-2", "method": "wechat_pay", "amount": "600.00", "currency": "CNY"}
    await api.get(TX.format("tx-w"), **order)
    clock.advance(seconds=60)
    assert await channels.tick() == 1
    assert merchant.notices == [
        (merchant.notices[0][0], NoticeKind.PAID, "tx-w", Decimal("600.00"))
    ]
    assert (await api.get(TX.format("tx-w")))["status"] == "succeeded"

    # A merchant that never answers as WeChat expects: 1 + 15 sends, then WeChat gives up.
    never = Merchant([(500, b'{"code":"FAIL","message":"x"}')] * 100)
    stubborn = make_notifier(store, clock, never)
    await api.get(TX.format("tx-w2"), **{**order, "order_id": "ORD-3"})
    clock.advance(seconds=60)
    for interval in (0, *WECHAT_RESEND_S):
        clock.advance(seconds=interval)
        assert await stubborn.tick() == 1
    clock.advance(days=2)
    assert await stubborn.tick() == 0
    assert len(never.notices) == 1 + len(WECHAT_RESEND_S)
    # Unanswered twice and more: the query API shows the payment (a poll may decide).
    held_app(stubborn)
    assert (await api.get(TX.format("tx-w2")))["status"] == "succeeded"


async def test_a_transaction_settled_by_hand_is_announced_with_what_was_taken(
    api: Api, store: Store, clock: FakeClock
) -> None:
    # `python -m sandbox settle`: the channel takes the money now, whatever its scenario said
    # (`pay-never` waits forever), e.g. for an order nobody started or more than the order:
    # the channel announces that capture as it would any other.
    merchant = Merchant([])
    channels = make_notifier(store, clock, merchant)
    settle = "/v1/sandbox/transactions/{}/settle"
    body = {"order_id": "ORD-5", "method": "alipay", "amount": "600.00"}
    await api.ok(settle.format("tx-pay-never-5"), body)
    await api.get(TX.format("tx-pay-never-6"), **{**body, "order_id": "ORD-6"})
    await api.ok(settle.format("tx-pay-never-6"), {"amount": "650.00"})
    assert await channels.tick() == 2
    got = sorted(notice[1:] for notice in merchant.notices)
    assert got == [
        (NoticeKind.PAID, "tx-pay-never-5", Decimal("600.00")),
        (NoticeKind.PAID, "tx-pay-never-6", Decimal("650.00")),
    ]
    assert await channels.tick() == 0  # answered


async def test_payments_are_not_held_without_a_notifier(api: Api, clock: FakeClock) -> None:
    order = {"order_id": "ORD-4", "method": "alipay", "amount": "1.00", "currency": "CNY"}
    await api.get(TX.format("tx-plain"), **order)
    clock.advance(seconds=60)
    assert (await api.get(TX.format("tx-plain")))["status"] == "succeeded"


def test_the_notifier_plays_only_fully_configured_channels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in (
        "SANDBOX_NOTIFY_URL",
        "SANDBOX_ALIPAY_PRIVATE_KEY",
        "ALIPAY_APP_ID",
        "ALIPAY_SELLER_ID",
        "SANDBOX_WECHATPAY_PRIVATE_KEY",
        "WECHATPAY_MCHID",
    ):
        monkeypatch.delenv(f"UPGRADE_{name}", raising=False)  # fmt: skip
    assert NotifierSettings().signers() == []
    monkeypatch.setenv("UPGRADE_SANDBOX_NOTIFY_URL", "http://127.0.0.1:8400")
    monkeypatch.setenv("UPGRADE_SANDBOX_ALIPAY_PRIVATE_KEY", private_key_pem(_ALIPAY))
    monkeypatch.setenv("UPGRADE_ALIPAY_APP_ID", "2021")
    assert NotifierSettings().signers() == []  # no seller id: Alipay is not played
    monkeypatch.setenv("UPGRADE_ALIPAY_SELLER_ID", "2088")
    assert [s.method.value for s in NotifierSettings().signers()] == ["alipay"]
