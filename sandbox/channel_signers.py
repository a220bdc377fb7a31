"""The sandbox playing Alipay and WeChat Pay: their notifications, signed with development keys.

`NotifierSettings` reads what the sandbox needs to sign as each channel: the channel's private
key (`UPGRADE_SANDBOX_ALIPAY_PRIVATE_KEY`, `UPGRADE_SANDBOX_WECHATPAY_PRIVATE_KEY`: PEM text or
a path to a PEM file), the merchant's ids and APIv3 key (the very `UPGRADE_ALIPAY_*` /
`UPGRADE_WECHATPAY_*` variables the ingress reads, so `make run` configures both sides with one
environment), and where to send (`UPGRADE_SANDBOX_NOTIFY_URL`, the ingress's base URL).
A channel whose key or ids are missing is simply not played: its payments are only polled.

A signer turns a settled transaction into the exact request the channel would POST, and judges
the merchant's answer as the channel does (`channels.answers`).

Boundary: builds and judges requests (`channels.*_signing`); sending and scheduling are
`sandbox.notifier`.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from channels.alipay_signing import encode_notification, trade_notification
from channels.answers import alipay_accepted, wechat_accepted
from channels.keys import load_private_key
from channels.wechat_pay_signing import WechatPaySender, transaction_resource
from domain.models import PaymentMethod

ALIPAY_NOTIFY_PATH = "/v1/payments/alipay/notify"
WECHAT_NOTIFY_PATH = "/v1/payments/wechat_pay/notify"


@dataclass(frozen=True)
class Settled:
    """A transaction the channel has settled, as the sandbox knows it."""

    transaction_id: str
    order_id: str
    amount: Decimal
    currency: str
    paid_at: datetime


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


class Signer(Protocol):
    method: PaymentMethod

    def request(self, settled: Settled, notice_id: str, now: datetime) -> Request: ...

    def accepted(self, status_code: int, body: bytes) -> bool: ...


def _digits(seed: str, length: int) -> str:
    return str(int.from_bytes(seed.encode(), "big") % 10**length).zfill(length)


class AlipaySigner:
    method = PaymentMethod.ALIPAY

    def __init__(self, private_pem: str, app_id: str, seller_id: str) -> None:
        self._key = load_private_key(private_pem, "UPGRADE_SANDBOX_ALIPAY_PRIVATE_KEY")
        self._app_id, self._seller_id = app_id, seller_id

    def request(self, settled: Settled, notice_id: str, now: datetime) -> Request:
        params = trade_notification(
            app_id=self._app_id,
            seller_id=self._seller_id,
            out_trade_no=settled.transaction_id,
            trade_no=f"{settled.paid_at:%Y%m%d}2200{_digits(notice_id, 16)}",
            total_amount=settled.amount,
            notify_id=notice_id,
            notify_time=now,
            gmt_payment=settled.paid_at,
        )
        body = encode_notification(params, self._key)
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        return Request(ALIPAY_NOTIFY_PATH, headers, body)

    def accepted(self, status_code: int, body: bytes) -> bool:
        return alipay_accepted(body)


class WechatPaySigner:
    method = PaymentMethod.WECHAT_PAY

    def __init__(
        self, private_pem: str, key_id: str, mchid: str, appid: str, apiv3_key: SecretStr
    ) -> None:
        key = load_private_key(private_pem, "UPGRADE_SANDBOX_WECHATPAY_PRIVATE_KEY")
        self._sender = WechatPaySender(private_key=key, serial=key_id, apiv3_key=apiv3_key)
        self._mchid, self._appid = mchid, appid

    def request(self, settled: Settled, notice_id: str, now: datetime) -> Request:
        resource = transaction_resource(
            mchid=self._mchid,
            appid=self._appid,
            out_trade_no=settled.transaction_id,
            transaction_id=f"42000{_digits(notice_id, 23)}",
            amount=settled.amount,
            success_time=settled.paid_at,
            currency=settled.currency,
        )
        # Signed afresh on every send (a new timestamp and nonce), as WeChat Pay does.
        signed = self._sender.notification(
            "TRANSACTION.SUCCESS", resource, notification_id=notice_id
        )
        return Request(WECHAT_NOTIFY_PATH, dict(signed.headers), signed.body)

    def accepted(self, status_code: int, body: bytes) -> bool:
        return wechat_accepted(status_code)


def _pem(text_or_path: str) -> str:
    text = text_or_path.strip()
    if "-----BEGIN" not in text and Path(text).is_file():
        return Path(text).read_text(encoding="utf-8")
    return text


class NotifierSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="UPGRADE_", extra="ignore", hide_input_in_errors=True
    )

    sandbox_notify_url: str | None = None
    sandbox_alipay_private_key: str | None = None
    sandbox_wechatpay_private_key: str | None = None
    alipay_app_id: str | None = None
    alipay_seller_id: str | None = None
    wechatpay_mchid: str | None = None
    wechatpay_appid: str | None = None
    wechatpay_apiv3_key: SecretStr | None = None
    wechatpay_public_key_id: str | None = None

    def signers(self) -> list[Signer]:
        """The channels the sandbox can play with these settings (none without a notify URL)."""
        if not (self.sandbox_notify_url or "").strip():
            return []
        signers: list[Signer] = []
        if self.sandbox_alipay_private_key and self.alipay_app_id and self.alipay_seller_id:
            signers.append(
                AlipaySigner(
                    _pem(self.sandbox_alipay_private_key),
                    self.alipay_app_id,
                    self.alipay_seller_id,
                )
            )
        wechat = (
            self.sandbox_wechatpay_private_key,
            self.wechatpay_public_key_id,
            self.wechatpay_mchid,
            self.wechatpay_appid,
            self.wechatpay_apiv3_key,
        )
        if all(wechat):
            assert self.sandbox_wechatpay_private_key and self.wechatpay_apiv3_key
            assert self.wechatpay_public_key_id and self.wechatpay_mchid and self.wechatpay_appid
            signers.append(
                WechatPaySigner(
                    _pem(self.sandbox_wechatpay_private_key),
                    self.wechatpay_public_key_id,
                    self.wechatpay_mchid,
                    self.wechatpay_appid,
                    self.wechatpay_apiv3_key,
                )
            )
        return signers
