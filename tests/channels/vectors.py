"""Notifications built by the channels' own SDKs (the independent other party) and `cryptography`.

python-alipay-sdk's `sign_data` signs and form-encodes Alipay's parameters; wechatpayv3's
`Core.sign` signs WeChat Pay's `timestamp\\nnonce\\nbody\\n`; the resource is sealed here with
`cryptography`'s AESGCM directly, not with `channels.wechat_pay_signing`.
"""

import base64
import json
from typing import Any

from alipay import AliPay
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from wechatpayv3.core import Core

APP_ID = "2021000000000001"
SELLER_ID = "2088000000000001"
MCHID = "1900000109"
APPID = "wx8888888888888888"
APIV3_KEY = "0123456789abcdefghijklmnopqrstuv"  # 32 bytes, as the merchant sets it
PUBLIC_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000000001"
NOW = 1_780_000_000  # the injected clock, seconds


def alipay_params(**overrides: str) -> dict[str, str]:
    """A TRADE_SUCCESS notification's parameters (unsigned), as Alipay's documentation lists."""
    params = {
        "notify_time": "2026-05-28 10:00:05",
        "notify_type": "trade_status_sync",
        "notify_id": "ac05099524730693a8b330c5ecf72da9786",
        "app_id": APP_ID,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": "2026052822001400000000000001",
        "out_trade_no": "tx-0001",
        "buyer_id": "2088102122524333",
        "seller_id": SELLER_ID,
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "19.99",
        "receipt_amount": "19.99",
        "subject": "套餐升级 Plan upgrade",
        "gmt_create": "2026-05-28 10:00:00",
        "gmt_payment": "2026-05-28 10:00:04",
    }
    params.update(overrides)
    return params


def alipay_sdk(private_key_pem: str, public_key_pem: str) -> AliPay:
    return AliPay(
        appid=APP_ID,
        app_private_key_string=private_key_pem,
        alipay_public_key_string=public_key_pem,
        sign_type="RSA2",
    )


def alipay_body(sdk: AliPay, params: dict[str, str], unsigned_suffix: str = "") -> bytes:
    """The form Alipay POSTs: the SDK's signed string, `sign_type` (never signed) appended."""
    signed = sdk.sign_data(dict(params))
    return f"{signed}&sign_type=RSA2{unsigned_suffix}".encode("ascii")


def wechat_core(private_key_pem: str, public_key_pem: str, apiv3_key: str = APIV3_KEY) -> Core:
    """The SDK configured with a platform public key (so constructing it makes no request)."""
    return Core(
        mchid=MCHID,
        cert_serial_no="unused-merchant-serial",
        private_key=private_key_pem,
        apiv3_key=apiv3_key,
        public_key=public_key_pem,
        public_key_id=PUBLIC_KEY_ID,
    )


def transaction(**overrides: Any) -> dict[str, Any]:
    tx: dict[str, Any] = {
        "mchid": MCHID,
        "appid": APPID,
        "out_trade_no": "tx-0001",
        "transaction_id": "4200000000202605280000000001",
        "trade_type": "NATIVE",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "success_time": "2026-05-28T10:00:04+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 1999, "payer_total": 1999, "currency": "CNY", "payer_currency": "CNY"},
    }
    tx.update(overrides)
    return tx


def refund(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "mchid": MCHID,
        "out_trade_no": "tx-0001",
        "transaction_id": "4200000000202605280000000001",
        "out_refund_no": "rf-0001",
        "refund_id": "50300000000202605280000000001",
        "refund_status": "SUCCESS",
        "success_time": "2026-05-29T10:00:00+08:00",
        "user_received_account": "支付用户零钱",
        "amount": {"total": 1999, "refund": 1999, "payer_total": 1999, "payer_refund": 1999},
    }
    data.update(overrides)
    return data


def envelope(
    resource: dict[str, Any], event_type: str = "TRANSACTION.SUCCESS", key: str = APIV3_KEY
) -> bytes:
    """The v3 envelope around `resource`, sealed with AESGCM under `key`."""
    original_type = "refund" if event_type.startswith("REFUND.") else "transaction"
    nonce = "fdasflkja484"
    plaintext = json.dumps(resource, ensure_ascii=False).encode()
    sealed = AESGCM(key.encode()).encrypt(nonce.encode(), plaintext, original_type.encode())
    body = {
        "id": "EV-2018022511223320873",
        "create_time": "2026-05-28T10:00:05+08:00",
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": "支付成功",
        "resource": {
            "original_type": original_type,
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(sealed).decode(),
            "associated_data": original_type,
            "nonce": nonce,
        },
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def wechat_headers(
    core: Core, body: bytes, timestamp: int = NOW, serial: str = PUBLIC_KEY_ID
) -> dict[str, str]:
    """The headers WeChat Pay sends with `body`, signed by the SDK."""
    nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
    signature = core.sign([str(timestamp), nonce, body.decode("utf-8")])
    return {
        "Wechatpay-Timestamp": str(timestamp),
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": signature,
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }
