"""The channels' doors in process, before Temporal: configuration, size, verification, budget.

Everything here is decided before (or instead of) a run is reached, so the app runs on an ASGI
transport without a Temporal server: a door without its keys is shut (503), a body over the cap
is refused unread (413), a forged notice is refused (401) without any lookup, and a verified
notice that cannot be recorded in time is answered as NOT handled (503), so the channel re-sends.
The answers are the channels' own: Alipay `success`/`fail: ...` text, WeChat 204 or
`{"code": "FAIL", "message": ...}`. Over real HTTP with a run behind: `test_channel_doors_http`.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from channels.keys import generate_private_key, private_key_pem, public_key_pem
from channels.notices import MAX_NOTIFY_BYTES
from client import payment_orders
from domain.models import UpgradeOrder
from ingress.app import create_app
from ingress.settings import IngressSettings
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
    transaction,
    wechat_core,
    wechat_headers,
)

ALIPAY = "/v1/payments/alipay/notify"
WECHAT = "/v1/payments/wechat_pay/notify"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

_KEY = generate_private_key()
PRIVATE_PEM, PUBLIC_PEM = private_key_pem(_KEY), public_key_pem(_KEY.public_key())
_FOREIGN = generate_private_key()


def configured(**changes: Any) -> IngressSettings:
    values: dict[str, Any] = {
        "alipay_app_id": APP_ID,
        "alipay_seller_id": SELLER_ID,
        "alipay_public_key": PUBLIC_PEM,
        "wechatpay_mchid": MCHID,
        "wechatpay_appid": APPID,
        "wechatpay_apiv3_key": SecretStr(APIV3_KEY),
        "wechatpay_public_key": PUBLIC_PEM,
        "wechatpay_public_key_id": PUBLIC_KEY_ID,
    }
    return IngressSettings(**(values | changes))


class _NoTemporal:
    """Stands for a connected client; `orders_paid_by` is replaced in the tests that get there."""


async def _client(settings: IngressSettings, temporal: object | None) -> httpx.AsyncClient:
    app = create_app(settings, client=temporal)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress")


@pytest.fixture
async def shut() -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(IngressSettings(), None) as http:
        yield http


@pytest.fixture
async def open_doors() -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(configured(), None) as http:
        yield http


def alipay_notice(**overrides: str) -> bytes:
    return alipay_body(alipay_sdk(PRIVATE_PEM, PUBLIC_PEM), alipay_params(**overrides))


def wechat_notice(now: int | None = None, **overrides: Any) -> tuple[dict[str, str], bytes]:
    body = envelope(transaction(**overrides))
    core = wechat_core(PRIVATE_PEM, PUBLIC_PEM)
    headers = wechat_headers(core, body, timestamp=int(time.time()) if now is None else now)
    return headers | {"Content-Type": "application/json"}, body


def assert_alipay_fail(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.content.startswith(b"fail: ") and response.content != b"success"
    assert words in response.text, response.text


def assert_wechat_fail(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "FAIL" and words in body["message"], body


async def test_a_door_without_its_keys_is_shut_naming_what_is_missing(
    shut: httpx.AsyncClient,
) -> None:
    response = await shut.post(ALIPAY, content=alipay_notice(), headers=FORM)
    assert_alipay_fail(response, 503, "UPGRADE_ALIPAY_APP_ID")
    assert "UPGRADE_ALIPAY_PUBLIC_KEY" in response.text
    headers, body = wechat_notice()
    response = await shut.post(WECHAT, content=body, headers=headers)
    assert_wechat_fail(response, 503, "UPGRADE_WECHATPAY_APIV3_KEY")


async def test_half_a_configuration_keeps_the_door_shut() -> None:
    async with await _client(configured(alipay_seller_id=""), None) as http:
        response = await http.post(ALIPAY, content=alipay_notice(), headers=FORM)
    assert_alipay_fail(response, 503, "UPGRADE_ALIPAY_SELLER_ID")
    async with await _client(configured(wechatpay_public_key_id=None), None) as http:
        headers, body = wechat_notice()
        response = await http.post(WECHAT, content=body, headers=headers)
    assert_wechat_fail(response, 503, "UPGRADE_WECHATPAY_PUBLIC_KEY")


def test_a_key_that_does_not_load_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValidationError) as caught:
        configured(alipay_public_key="not a key")
    assert caught.value.errors()[0]["loc"] == ("alipay_public_key",)
    with pytest.raises(ValidationError) as caught:
        configured(wechatpay_apiv3_key=SecretStr("short"))
    assert "32 bytes" in str(caught.value) and "short" not in str(caught.value)
    with pytest.raises(ValidationError):
        configured(wechatpay_public_key_id="1234")


async def test_an_oversized_body_is_refused_unread(open_doors: httpx.AsyncClient) -> None:
    big = b"a=" + b"x" * MAX_NOTIFY_BYTES
    response = await open_doors.post(ALIPAY, content=big, headers=FORM)
    assert_alipay_fail(response, 413, "limit")
    response = await open_doors.post(WECHAT, content=big, headers={"Wechatpay-Nonce": "n"})
    assert_wechat_fail(response, 413, "limit")


async def test_forged_notices_are_refused_before_any_lookup(
    open_doors: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_lookup(*args: object) -> list[UpgradeOrder]:
        raise AssertionError("an unauthenticated notice caused a lookup")

    monkeypatch.setattr(payment_orders, "orders_paid_by", no_lookup)
    tampered = alipay_notice().replace(b"total_amount=19.99", b"total_amount=0.01")
    assert_alipay_fail(await open_doors.post(ALIPAY, content=tampered, headers=FORM), 401, "sign")
    foreign = alipay_body(alipay_sdk(private_key_pem(_FOREIGN), PUBLIC_PEM), alipay_params())
    assert_alipay_fail(await open_doors.post(ALIPAY, content=foreign, headers=FORM), 401, "sign")
    other_app = alipay_notice(app_id="2021999999999999")
    response = await open_doors.post(ALIPAY, content=other_app, headers=FORM)
    assert_alipay_fail(response, 403, "app_id")

    headers, body = wechat_notice(now=1_000_000_000)
    assert_wechat_fail(await open_doors.post(WECHAT, content=body, headers=headers), 401, "clock")
    headers, body = wechat_notice()
    probe = headers | {"Wechatpay-Signature": "WECHATPAY/SIGNTEST/" + "A" * 300}
    assert_wechat_fail(await open_doors.post(WECHAT, content=body, headers=probe), 401, "signature")
    headers, body = wechat_notice(mchid="1900000999")
    assert_wechat_fail(await open_doors.post(WECHAT, content=body, headers=headers), 403, "mchid")


async def test_a_notice_not_recorded_in_time_is_not_answered_as_handled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def slow(*args: object) -> list[UpgradeOrder]:
        await asyncio.sleep(30)
        return []

    monkeypatch.setattr(payment_orders, "orders_paid_by", slow)
    async with await _client(configured(channel_answer_timeout_s=0.2), _NoTemporal()) as http:
        response = await http.post(ALIPAY, content=alipay_notice(), headers=FORM)
        assert_alipay_fail(response, 503, "send it again")
        headers, body = wechat_notice()
        response = await http.post(WECHAT, content=body, headers=headers)
        assert_wechat_fail(response, 503, "send it again")


async def test_a_verified_notice_without_temporal_is_not_answered_as_handled(
    open_doors: httpx.AsyncClient,
) -> None:
    response = await open_doors.post(ALIPAY, content=alipay_notice(), headers=FORM)
    assert_alipay_fail(response, 503, "Temporal")


async def test_the_openapi_shows_both_doors_with_examples(open_doors: httpx.AsyncClient) -> None:
    spec = (await open_doors.get("/openapi.json")).json()
    alipay = spec["paths"][ALIPAY]["post"]
    form = alipay["requestBody"]["content"]["application/x-www-form-urlencoded"]["example"]
    assert "trade_status=TRADE_SUCCESS" in form and "sign_type=RSA2" in form
    assert alipay["responses"]["200"]["content"]["text/plain"]["example"] == "success"
    wechat = spec["paths"][WECHAT]["post"]
    example = wechat["requestBody"]["content"]["application/json"]["example"]
    assert example["resource"]["algorithm"] == "AEAD_AES_256_GCM"
    assert json.dumps(wechat["responses"]["401"]).count("FAIL") == 1
