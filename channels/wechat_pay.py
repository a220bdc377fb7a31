"""WeChat Pay API v3 notifications (payment success, refunds): verify, decrypt, then read.

The merchant side, in the order it runs:

1. the body is refused over `MAX_NOTIFY_BYTES`;
2. headers: `Wechatpay-Timestamp`, `-Nonce`, `-Signature`, `-Serial` must be present;
   `-Signature-Type`, when sent, must be `WECHATPAY2-SHA256-RSA2048`;
3. the timestamp must be within 5 minutes of our clock (injected, for tests);
4. the key is the one `Wechatpay-Serial` names in the local `WechatPayKeyStore`: a platform
   public key id (`PUB_KEY_ID_...`) or a platform certificate serial. An unknown serial is
   refused; nothing is downloaded on the request path (the SDK does, and blocks on it);
5. the signature (base64 SHA256withRSA) must cover `"{timestamp}\\n{nonce}\\n{raw body}\\n"`,
   byte for byte; WeChat's deliberate probe signatures (`WECHATPAY/SIGNTEST/...`) fail here
   like any other bad signature, which is the answer WeChat expects;
6. `resource` (AEAD_AES_256_GCM) is opened with the merchant's 32-byte APIv3 key;
7. `mchid` (and `appid` for transactions; refund notices carry none) must be ours;
8. the fields are read: `amount.total` is integer fen, `Decimal(total) / 100`, never a float.

`TRANSACTION.*` events carry a transaction (`trade_state` SUCCESS = paid); `REFUND.*` events a
refund (`refund_status` SUCCESS = refunded, ABNORMAL / CLOSED = the refund did not happen).

Longer than our usual ~300 lines on purpose: the eight steps above read in order in one module.
The order check (`out_trade_no`, amount) is `channels.notices.check_order`, run by the caller.

Boundary: pure but for reading a certificate directory when a key store is built from settings.
"""

import base64
import binascii
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, SecretStr, StrictInt, ValidationError, field_validator

from channels.errors import (
    BadSignature,
    DecryptionFailed,
    ForeignMerchant,
    MalformedNotice,
    StaleTimestamp,
    UnknownSerial,
)
from channels.keys import KeyLoadError, load_certificate, load_public_key, require_rsa_public
from channels.notices import ChannelNotice, NoticeKind, fen_to_yuan, refuse_oversize
from domain.frozen import StrictFrozen
from domain.models import PaymentMethod

TIMESTAMP = "Wechatpay-Timestamp"
NONCE = "Wechatpay-Nonce"
SIGNATURE = "Wechatpay-Signature"
SERIAL = "Wechatpay-Serial"
SIGNATURE_TYPE = "Wechatpay-Signature-Type"
SIGNATURE_SCHEME = "WECHATPAY2-SHA256-RSA2048"
ALGORITHM = "AEAD_AES_256_GCM"
PUBLIC_KEY_ID_PREFIX = "PUB_KEY_ID_"
# WeChat's rule: a timestamp more than 5 minutes from the merchant's clock is refused.
MAX_SKEW_S = 300
APIV3_KEY_BYTES = 32

_TRADE_STATES = {
    "SUCCESS": NoticeKind.PAID,
    "NOTPAY": NoticeKind.PENDING,
    "USERPAYING": NoticeKind.PENDING,
    "CLOSED": NoticeKind.CLOSED,
    "REVOKED": NoticeKind.CLOSED,
    "PAYERROR": NoticeKind.CLOSED,
    # "transferred to refund": money going back, never a failed payment.
    "REFUND": NoticeKind.REFUND,
}
_REFUND_STATES = {
    "SUCCESS": NoticeKind.REFUND,
    "ABNORMAL": NoticeKind.REFUND_FAILED,
    "CLOSED": NoticeKind.REFUND_FAILED,
}


class WechatPayMerchant(StrictFrozen):
    """Who we are at WeChat Pay, and the APIv3 key that opens notifications' resources."""

    mchid: str
    appid: str
    apiv3_key: SecretStr

    @field_validator("apiv3_key")
    @classmethod
    def _thirty_two_bytes(cls, value: SecretStr) -> SecretStr:
        # The key is used as its UTF-8 bytes (as WeChat and its SDKs do): AES-256 needs 32.
        if len(value.get_secret_value().encode("utf-8")) != APIV3_KEY_BYTES:
            raise ValueError(f"the APIv3 key must be {APIV3_KEY_BYTES} bytes")
        return value


class WechatPayKeyStore:
    """The platform's verification keys by `Wechatpay-Serial`; local only, never downloaded.

    During a switch from platform certificates to a platform public key WeChat signs with
    either, so both kinds may be held at once.
    """

    def __init__(self) -> None:
        self._public_keys: dict[str, rsa.RSAPublicKey] = {}
        self._certificates: dict[int, tuple[x509.Certificate, rsa.RSAPublicKey]] = {}

    @classmethod
    def from_settings(
        cls,
        *,
        public_key: str | None = None,
        public_key_id: str | None = None,
        certificate_dir: Path | None = None,
    ) -> "WechatPayKeyStore":
        """A store from `UPGRADE_WECHATPAY_PUBLIC_KEY(_ID)` and a directory of `*.pem` certificates."""
        store = cls()
        if (public_key is None) != (public_key_id is None):
            raise KeyLoadError("the platform public key and its id must be set together")
        if public_key is not None and public_key_id is not None:
            store.add_public_key(public_key_id, load_public_key(public_key, "the platform key"))
        if certificate_dir is not None:
            for path in sorted(certificate_dir.glob("*.pem")):
                store.add_certificate(load_certificate(path.read_bytes(), path.name))
        return store

    def add_public_key(self, key_id: str, key: rsa.RSAPublicKey) -> None:
        if not key_id.startswith(PUBLIC_KEY_ID_PREFIX):
            raise KeyLoadError(f"a platform public key id starts with {PUBLIC_KEY_ID_PREFIX}")
        self._public_keys[key_id] = key

    def add_certificate(self, certificate: x509.Certificate) -> None:
        key = require_rsa_public(
            certificate.public_key(), f"certificate {certificate.serial_number:X}"
        )
        self._certificates[certificate.serial_number] = (certificate, key)

    @property
    def serials(self) -> tuple[str, ...]:
        """Every serial a notification may name: key ids, then certificate serials (hex)."""
        return (*self._public_keys, *(f"{n:X}" for n in self._certificates))

    def __len__(self) -> int:
        return len(self._public_keys) + len(self._certificates)

    def key_for(self, serial: str, now: datetime) -> rsa.RSAPublicKey:
        """The key `serial` names, or `UnknownSerial` (also for a certificate out of validity)."""
        if serial in self._public_keys:
            return self._public_keys[serial]
        held = None
        if 0 < len(serial) <= 64:
            try:
                held = self._certificates.get(int(serial, 16))
            except ValueError:
                held = None
        if held is None:
            raise UnknownSerial(f"{SERIAL} {serial[:64]!r} names no key we hold")
        certificate, key = held
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise UnknownSerial(f"platform certificate {serial!r} is outside its validity")
        return key


_M = TypeVar("_M", bound=BaseModel)


class _Model(BaseModel):
    # Only what we read is declared; WeChat adds fields over time.
    model_config = ConfigDict(frozen=True, extra="ignore")


class _Resource(_Model):
    algorithm: str
    ciphertext: str
    nonce: str
    associated_data: str = ""


class _Envelope(_Model):
    id: str
    resource_type: str
    event_type: str
    resource: _Resource


class _TransactionAmount(_Model):
    total: StrictInt
    currency: str


class _Transaction(_Model):
    mchid: str
    appid: str
    out_trade_no: str
    transaction_id: str
    trade_state: str
    success_time: datetime | None = None
    amount: _TransactionAmount


class _RefundAmount(_Model):
    total: StrictInt
    refund: StrictInt


class _Refund(_Model):
    mchid: str
    out_trade_no: str
    transaction_id: str
    refund_id: str
    refund_status: str
    amount: _RefundAmount


def signed_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    """What WeChat Pay signs: timestamp, nonce and the raw body, each followed by a newline."""
    return b"%s\n%s\n%s\n" % (timestamp.encode("utf-8"), nonce.encode("utf-8"), body)


def _parse(model: type[_M], data: Any, what: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Our own wording: pydantic's would quote the input, which may be a payer's data.
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or what
        raise MalformedNotice(f"{what}: {where}: {first['msg']}") from exc


class WechatPayVerifier:
    """Verifies and opens notifications for one merchant."""

    def __init__(
        self,
        merchant: WechatPayMerchant,
        keys: WechatPayKeyStore,
        *,
        clock: Callable[[], float] = time.time,
        max_skew_s: int = MAX_SKEW_S,
    ) -> None:
        self._merchant = merchant
        self._keys = keys
        self._clock = clock
        self._max_skew_s = max_skew_s

    def open_notice(self, headers: Mapping[str, str], body: bytes) -> ChannelNotice:
        """The verified, decrypted notice, or a `ChannelError` naming what is wrong."""
        refuse_oversize(body)
        self.verify_signature(headers, body)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise MalformedNotice("the body is not JSON") from exc
        envelope = _parse(_Envelope, data, "notification")
        if envelope.resource_type != "encrypt-resource":
            raise MalformedNotice(
                f"resource_type {envelope.resource_type!r} is not encrypt-resource"
            )
        plaintext = self._decrypt(envelope.resource)
        try:
            resource = json.loads(plaintext)
        except ValueError as exc:
            raise MalformedNotice("the decrypted resource is not JSON") from exc
        if envelope.event_type.startswith("TRANSACTION."):
            return self._transaction(envelope, _parse(_Transaction, resource, "transaction"))
        if envelope.event_type.startswith("REFUND."):
            return self._refund(envelope, _parse(_Refund, resource, "refund"))
        raise MalformedNotice(f"event_type {envelope.event_type!r} is not a payment or refund")

    def verify_signature(self, headers: Mapping[str, str], body: bytes) -> None:
        """Steps 2-5: headers, freshness, key by serial, signature over the raw body."""
        lowered = {name.lower(): value for name, value in headers.items()}

        def header(name: str) -> str:
            value = lowered.get(name.lower(), "").strip()
            if not value:
                raise BadSignature(f"the {name} header is missing")
            return value

        scheme = lowered.get(SIGNATURE_TYPE.lower(), SIGNATURE_SCHEME).strip()
        if scheme != SIGNATURE_SCHEME:
            raise BadSignature(f"{SIGNATURE_TYPE} {scheme[:64]!r} is not {SIGNATURE_SCHEME}")
        timestamp, nonce = header(TIMESTAMP), header(NONCE)
        signature, serial = header(SIGNATURE), header(SERIAL)
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise BadSignature(f"{TIMESTAMP} {timestamp[:16]!r} is not a Unix time in seconds")
        now = self._clock()
        skew = abs(now - int(timestamp))
        if skew > self._max_skew_s:
            raise StaleTimestamp(
                f"{TIMESTAMP} {timestamp} is {skew:.0f} s from our clock; "
                f"the limit is {self._max_skew_s} s"
            )
        key = self._keys.key_for(serial, datetime.fromtimestamp(now, UTC))
        try:
            raw_signature = base64.b64decode(signature, validate=True)
            key.verify(
                raw_signature,
                signed_message(timestamp, nonce, body),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (binascii.Error, InvalidSignature) as exc:
            raise BadSignature(
                f"{SIGNATURE} is not the platform's signature of this request"
            ) from exc

    def _decrypt(self, resource: _Resource) -> bytes:
        if resource.algorithm != ALGORITHM:
            raise MalformedNotice(f"resource.algorithm {resource.algorithm!r} is not {ALGORITHM}")
        key = self._merchant.apiv3_key.get_secret_value().encode("utf-8")
        try:
            ciphertext = base64.b64decode(resource.ciphertext, validate=True)
            return AESGCM(key).decrypt(
                resource.nonce.encode("utf-8"),
                ciphertext,
                resource.associated_data.encode("utf-8"),
            )
        except (binascii.Error, InvalidTag, ValueError) as exc:
            raise DecryptionFailed(
                "resource does not decrypt with our APIv3 key (another key, or altered)"
            ) from exc

    def _check_mchid(self, mchid: str) -> None:
        if mchid != self._merchant.mchid:
            raise ForeignMerchant(f"mchid {mchid!r} is not ours ({self._merchant.mchid!r})")

    def _transaction(self, envelope: _Envelope, tx: _Transaction) -> ChannelNotice:
        self._check_mchid(tx.mchid)
        if tx.appid != self._merchant.appid:
            raise ForeignMerchant(f"appid {tx.appid!r} is not ours ({self._merchant.appid!r})")
        kind = _TRADE_STATES.get(tx.trade_state)
        if kind is None:
            raise MalformedNotice(f"trade_state {tx.trade_state!r} is not one WeChat Pay sends")
        return ChannelNotice(
            channel=PaymentMethod.WECHAT_PAY,
            kind=kind,
            notice_id=envelope.id,
            out_trade_no=tx.out_trade_no,
            trade_no=tx.transaction_id,
            amount=fen_to_yuan("amount.total", tx.amount.total),
            currency=tx.amount.currency,
            channel_status=tx.trade_state,
            paid_at=tx.success_time if kind is NoticeKind.PAID else None,
        )

    def _refund(self, envelope: _Envelope, refund: _Refund) -> ChannelNotice:
        self._check_mchid(refund.mchid)
        kind = _REFUND_STATES.get(refund.refund_status)
        if kind is None:
            raise MalformedNotice(f"refund_status {refund.refund_status!r} is not one WeChat sends")
        total = fen_to_yuan("amount.total", refund.amount.total)
        refunded = fen_to_yuan("amount.refund", refund.amount.refund)
        if refunded > total:
            raise MalformedNotice(f"amount.refund {refunded} exceeds amount.total {total}")
        return ChannelNotice(
            channel=PaymentMethod.WECHAT_PAY,
            kind=kind,
            notice_id=envelope.id,
            out_trade_no=refund.out_trade_no,
            trade_no=refund.transaction_id,
            amount=total,
            currency="CNY",  # refund notices carry no currency; the merchant account's is CNY
            channel_status=envelope.event_type,
            refund_amount=refunded,
            refund_id=refund.refund_id,
            full_refund=kind is NoticeKind.REFUND and refunded == total,
        )
