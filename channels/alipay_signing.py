"""Alipay's side of a trade notification: build and sign one, for the sandbox and the tests.

The sandbox plays Alipay with a development key pair: it signs with the private key whose public
half the ingress is configured with (`UPGRADE_ALIPAY_PUBLIC_KEY`). The signature is the one
`channels.alipay` verifies: SHA256withRSA over the sorted non-empty parameters, base64.

Boundary: pure; a service that only receives notifications never imports this module.
"""

import base64
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from channels.alipay import ALIPAY_TIME_FORMAT, BEIJING, SIGN_TYPE, signing_string
from channels.notices import yuan_to_fen


def sign_params(params: Mapping[str, str], private_key: rsa.RSAPrivateKey) -> str:
    """The base64 `sign` for `params` (ignoring any `sign`/`sign_type` and empty values)."""
    message = signing_string(params).encode("utf-8")
    signature = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def encode_notification(params: Mapping[str, str], private_key: rsa.RSAPrivateKey) -> bytes:
    """The form body Alipay POSTs: `params` plus `sign_type=RSA2` and their `sign`."""
    unsigned = {k: v for k, v in params.items() if k not in ("sign", "sign_type")}
    signed = {**unsigned, "sign_type": SIGN_TYPE, "sign": sign_params(unsigned, private_key)}
    return urlencode(signed, encoding="utf-8").encode("ascii")


def _yuan(amount: Decimal) -> str:
    yuan_to_fen(amount)  # refuses a third decimal: Alipay never sends one
    return f"{amount:.2f}"


def _time(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime(ALIPAY_TIME_FORMAT)


def trade_notification(
    *,
    app_id: str,
    seller_id: str,
    out_trade_no: str,
    trade_no: str,
    total_amount: Decimal,
    notify_id: str,
    notify_time: datetime,
    trade_status: str = "TRADE_SUCCESS",
    gmt_payment: datetime | None = None,
    refund_fee: Decimal | None = None,
    out_biz_no: str | None = None,
    subject: str = "Plan upgrade",
) -> dict[str, str]:
    """The parameters of a trade notification as Alipay sends them (unsigned).

    A refund notice is `trade_status` TRADE_SUCCESS (partial) or TRADE_CLOSED (full) with
    `refund_fee` (the trade's refunded total) and `out_biz_no` (the refund request number).
    """
    params = {
        "notify_time": _time(notify_time),
        "notify_type": "trade_status_sync",
        "notify_id": notify_id,
        "app_id": app_id,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": trade_no,
        "out_trade_no": out_trade_no,
        "seller_id": seller_id,
        "trade_status": trade_status,
        "total_amount": _yuan(total_amount),
        "receipt_amount": _yuan(total_amount),
        "buyer_pay_amount": _yuan(total_amount),
        "subject": subject,
    }
    if gmt_payment is not None:
        params["gmt_payment"] = _time(gmt_payment)
    if refund_fee is not None:
        params["refund_fee"] = _yuan(refund_fee)
        params["gmt_refund"] = _time(notify_time)
    if out_biz_no is not None:
        params["out_biz_no"] = out_biz_no
    return params
