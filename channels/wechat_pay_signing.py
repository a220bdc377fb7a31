"""WeChat Pay's side of an API v3 notification: seal, sign and send-ready, for the sandbox and tests.

The sandbox plays WeChat Pay with a development platform key (named by a `PUB_KEY_ID_...` id)
and the merchant's APIv3 key: the resource is sealed with AEAD_AES_256_GCM under the APIv3 key,
the envelope is serialised once, and the signature covers those exact bytes.

Boundary: pure but for randomness (nonces, ids) and the injected clock; a service that only
receives notifications never imports this module.
"""

import base64
import json
import secrets
import string
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from channels.notices import yuan_to_fen
from channels.wechat_pay import (
    ALGORITHM,
    NONCE,
    SERIAL,
    SIGNATURE,
    SIGNATURE_SCHEME,
    SIGNATURE_TYPE,
    TIMESTAMP,
    signed_message,
)
from domain.frozen import StrictFrozen

_NONCE_ALPHABET = string.ascii_letters + string.digits


class SignedNotification(StrictFrozen):
    """A notification ready to POST: its headers and the exact body they sign."""

    headers: dict[str, str]
    body: bytes


def random_nonce(length: int = 32) -> str:
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))


def sign_message(private_key: rsa.RSAPrivateKey, timestamp: str, nonce: str, body: bytes) -> str:
    """`Wechatpay-Signature`: base64 SHA256withRSA over timestamp, nonce and body lines."""
    message = signed_message(timestamp, nonce, body)
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def seal_resource(
    plaintext: bytes, apiv3_key: bytes, *, original_type: str, nonce: str | None = None
) -> dict[str, str]:
    """The `resource` object: AEAD_AES_256_GCM with a 12-character nonce, base64 ciphertext."""
    nonce = nonce or random_nonce(12)
    associated_data = original_type
    sealed = AESGCM(apiv3_key).encrypt(nonce.encode(), plaintext, associated_data.encode())
    return {
        "original_type": original_type,
        "algorithm": ALGORITHM,
        "ciphertext": base64.b64encode(sealed).decode("ascii"),
        "associated_data": associated_data,
        "nonce": nonce,
    }


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def transaction_resource(
    *,
    mchid: str,
    appid: str,
    out_trade_no: str,
    transaction_id: str,
    amount: Decimal,
    success_time: datetime,
    trade_state: str = "SUCCESS",
    currency: str = "CNY",
) -> dict[str, Any]:
    """A decrypted payment notification's transaction; `amount` in yuan becomes integer fen."""
    fen = yuan_to_fen(amount)
    return {
        "mchid": mchid,
        "appid": appid,
        "out_trade_no": out_trade_no,
        "transaction_id": transaction_id,
        "trade_type": "NATIVE",
        "trade_state": trade_state,
        "trade_state_desc": "支付成功" if trade_state == "SUCCESS" else trade_state,
        "bank_type": "OTHERS",
        "success_time": _rfc3339(success_time),
        "payer": {"openid": "sandbox-payer"},
        "amount": {
            "total": fen,
            "payer_total": fen,
            "currency": currency,
            "payer_currency": currency,
        },
    }


def refund_resource(
    *,
    mchid: str,
    out_trade_no: str,
    transaction_id: str,
    refund_id: str,
    out_refund_no: str,
    total: Decimal,
    refund: Decimal,
    success_time: datetime,
    refund_status: str = "SUCCESS",
) -> dict[str, Any]:
    """A decrypted refund notification (`REFUND.SUCCESS` and the like): amounts in fen."""
    return {
        "mchid": mchid,
        "out_trade_no": out_trade_no,
        "transaction_id": transaction_id,
        "out_refund_no": out_refund_no,
        "refund_id": refund_id,
        "refund_status": refund_status,
        "success_time": _rfc3339(success_time),
        "user_received_account": "sandbox balance",
        "amount": {
            "total": yuan_to_fen(total),
            "refund": yuan_to_fen(refund),
            "payer_total": yuan_to_fen(total),
            "payer_refund": yuan_to_fen(refund),
        },
    }


class WechatPaySender:
    """Builds signed, sealed notifications as WeChat Pay's platform would."""

    def __init__(
        self,
        *,
        private_key: rsa.RSAPrivateKey,
        serial: str,
        apiv3_key: SecretStr,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._private_key = private_key
        self._serial = serial
        self._apiv3_key = apiv3_key
        self._clock = clock

    def notification(
        self,
        event_type: str,
        resource: Mapping[str, Any],
        *,
        notification_id: str | None = None,
        summary: str = "",
    ) -> SignedNotification:
        """`event_type` `TRANSACTION.SUCCESS` or `REFUND.*` around `resource`, sealed and signed."""
        original_type = "refund" if event_type.startswith("REFUND.") else "transaction"
        plaintext = json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()
        key = self._apiv3_key.get_secret_value().encode("utf-8")
        envelope = {
            "id": notification_id or str(uuid.uuid4()),
            "create_time": _rfc3339(datetime.fromtimestamp(self._clock()).astimezone()),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary or ("退款成功" if original_type == "refund" else "支付成功"),
            "resource": seal_resource(plaintext, key, original_type=original_type),
        }
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self.sign(body)

    def sign(self, body: bytes, *, timestamp: int | None = None) -> SignedNotification:
        """Headers for an arbitrary `body` (tests: stale timestamps, altered bodies)."""
        stamp = str(int(self._clock()) if timestamp is None else timestamp)
        nonce = random_nonce()
        headers = {
            TIMESTAMP: stamp,
            NONCE: nonce,
            SIGNATURE: sign_message(self._private_key, stamp, nonce, body),
            SERIAL: self._serial,
            SIGNATURE_TYPE: SIGNATURE_SCHEME,
            "Content-Type": "application/json",
        }
        return SignedNotification(headers=headers, body=body)
