"""Alipay trade notifications (page / app / wap pay, precreate): verify, then read.

The merchant side of Alipay's asynchronous notification, in the order it runs:

1. the body (form-encoded bytes as received) is refused over `MAX_NOTIFY_BYTES`, then parsed
   strictly as UTF-8 (a repeated parameter is malformed; after the signature check, so is a
   `charset` other than utf-8);
2. `sign_type` must be `RSA2`; the signing string is every parameter but `sign` and `sign_type`,
   empty values left out, URL-decoded, sorted by key, `k=v` joined by `&`; `sign` (base64) must be
   SHA256withRSA (PKCS#1 v1.5) over its UTF-8 bytes under Alipay's public key;
3. `app_id` and `seller_id` must be ours;
4. the fields are read: `total_amount` (yuan text, exact Decimal), `refund_fee`, `trade_status`.

What counts: `TRADE_SUCCESS` / `TRADE_FINISHED` are paid; `TRADE_SUCCESS` with a `refund_fee`
above zero is a partial refund; `TRADE_CLOSED` with one is a full refund, without one a trade
closed unpaid. Alipay sends `refund_fee=0.00` on plain payments, hence "above zero". No freshness
rule: Alipay re-sends the same notice (same `notify_id`) for about 25 hours.

The order check (`out_trade_no`, amount) is `channels.notices.check_order`, run by the caller
once it has found the order named by the verified notice.

Unlike python-alipay-sdk's `verify`, nothing here mutates its input or signs empty values.
Boundary: pure; `cryptography` only.
"""

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qsl

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from channels.errors import BadSignature, ForeignMerchant, MalformedNotice
from channels.notices import ChannelNotice, NoticeKind, parse_yuan, refuse_oversize
from domain.frozen import StrictFrozen
from domain.models import PaymentMethod

SIGN_TYPE = "RSA2"
UNSIGNED = frozenset({"sign", "sign_type"})
# Alipay's times (`gmt_payment`, `notify_time`) are Beijing time without an offset.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
ALIPAY_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# A real notification has about 25 parameters; a bound keeps a hostile body cheap to refuse.
_MAX_FIELDS = 100

_PAID = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})


class AlipayMerchant(StrictFrozen):
    """Who we are at Alipay: the ids a genuine notification for us carries (not secrets)."""

    app_id: str
    seller_id: str


def parse_form(body: bytes) -> dict[str, str]:
    """The notification's parameters, URL-decoded; refuses oversize, non-UTF-8, repeats."""
    refuse_oversize(body)
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=_MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedNotice("the body is not a UTF-8 form-encoded parameter list") from exc
    if not pairs:
        raise MalformedNotice("the body has no parameters")
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            # Two values for one key: which one was signed is a guess; refuse instead.
            raise MalformedNotice(f"parameter {key!r} appears more than once")
        params[key] = value
    return params


def signing_string(params: Mapping[str, str]) -> str:
    """What Alipay signed: every non-empty parameter but `sign`/`sign_type`, sorted, `k=v&...`."""
    items = sorted((k, v) for k, v in params.items() if k not in UNSIGNED and v != "")
    return "&".join(f"{key}={value}" for key, value in items)


def verify_signature(params: Mapping[str, str], public_key: rsa.RSAPublicKey) -> None:
    """Raise `BadSignature` unless `sign` is Alipay's RSA2 signature over `signing_string`."""
    sign_type = params.get("sign_type", "")
    if sign_type != SIGN_TYPE:
        raise BadSignature(f"sign_type {sign_type!r} is not accepted; only {SIGN_TYPE} is")
    sign = params.get("sign", "")
    if not sign:
        raise BadSignature("the sign parameter is missing")
    try:
        signature = base64.b64decode(sign, validate=True)
    except binascii.Error as exc:
        raise BadSignature("sign is not base64") from exc
    message = signing_string(params).encode("utf-8")
    try:
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise BadSignature("sign is not Alipay's signature over these parameters") from exc


class AlipayVerifier:
    """Verifies notifications for one merchant with Alipay's public key."""

    def __init__(self, merchant: AlipayMerchant, alipay_public_key: rsa.RSAPublicKey) -> None:
        self._merchant = merchant
        self._key = alipay_public_key

    def open_notice(self, body: bytes) -> ChannelNotice:
        """The verified notice in `body`, or a `ChannelError` naming what is wrong."""
        params = parse_form(body)
        verify_signature(params, self._key)
        # After the signature: an altered charset is a forgery first. Our parameters were
        # decoded as UTF-8, so a genuine notice in another charset cannot be read right.
        charset = params.get("charset", "utf-8")
        if charset.lower() not in ("utf-8", "utf8"):
            raise MalformedNotice(f"charset {charset!r} is not supported; the app must use utf-8")
        for field, ours in (
            ("app_id", self._merchant.app_id),
            ("seller_id", self._merchant.seller_id),
        ):
            theirs = params.get(field, "")
            if theirs != ours:
                raise ForeignMerchant(f"{field} {theirs!r} is not ours ({ours!r})")
        return _read_notice(params)


def _required(params: Mapping[str, str], field: str) -> str:
    value = params.get(field, "")
    if not value:
        raise MalformedNotice(f"{field} is missing")
    return value


def _alipay_time(params: Mapping[str, str], field: str) -> datetime | None:
    text = params.get(field, "")
    if not text:
        return None
    try:
        return datetime.strptime(text, ALIPAY_TIME_FORMAT).replace(tzinfo=BEIJING)
    except ValueError as exc:
        raise MalformedNotice(f"{field} {text!r} is not 'yyyy-MM-dd HH:mm:ss'") from exc


def _read_notice(params: Mapping[str, str]) -> ChannelNotice:
    status = _required(params, "trade_status")
    total = parse_yuan("total_amount", _required(params, "total_amount"))
    refund_text = params.get("refund_fee", "")
    refund = parse_yuan("refund_fee", refund_text) if refund_text else Decimal("0.00")
    if refund > total:
        raise MalformedNotice(f"refund_fee {refund} exceeds total_amount {total}")
    if status == "TRADE_SUCCESS" and refund > 0:
        kind = NoticeKind.REFUND
    elif status in _PAID:
        # TRADE_FINISHED after an earlier partial refund still carries that refund_fee: the
        # trade was paid; the refund itself was notified (TRADE_SUCCESS + refund_fee) before.
        kind = NoticeKind.PAID
    elif status == "TRADE_CLOSED":
        kind = NoticeKind.REFUND if refund > 0 else NoticeKind.CLOSED
    elif status == "WAIT_BUYER_PAY":
        kind = NoticeKind.PENDING
    else:
        raise MalformedNotice(f"trade_status {status!r} is not one Alipay sends")
    return ChannelNotice(
        channel=PaymentMethod.ALIPAY,
        kind=kind,
        notice_id=_required(params, "notify_id"),
        out_trade_no=_required(params, "out_trade_no"),
        trade_no=_required(params, "trade_no"),
        amount=total,
        currency="CNY",  # Alipay's trade notifications carry no currency: CNY.
        channel_status=status,
        paid_at=_alipay_time(params, "gmt_payment"),
        refund_amount=refund if refund > 0 else None,
        refund_id=params.get("out_biz_no") or None,
        # TRADE_CLOSED after a payment only happens once everything was refunded.
        full_refund=kind is NoticeKind.REFUND and (status == "TRADE_CLOSED" or refund == total),
    )
