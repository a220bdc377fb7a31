"""Payload encryption: an AES-256-GCM `PayloadCodec` with key ids, so keys can be rotated.

Every payload the SDK hands to the codec (workflow and activity inputs and results, update
arguments, heartbeat details, the static summary and details, and failure messages when the
failure converter encodes them) is replaced by one whose data is `nonce || ciphertext` of the
whole serialized original `Payload`, with metadata `encoding: binary/encrypted` and
`encryption-key-id: <id>`. The key id is also the AEAD associated data, so a payload whose key
id was swapped fails authentication like one whose ciphertext was modified.

Keys come from `UPGRADE_ENCRYPTION_KEYS` as `id:base64,id:base64,...`; the first is the current
key (used for new payloads), the others stay readable. Rotation: put the new key first, keep the
old ones until no run that used them is still retained. Decoding a payload encrypted under an id
that is not configured is a clear error, never a silent pass-through.

Not here: search attributes, workflow ids and memo keys are never encrypted by a payload codec,
which is why no personal data may go into them (README, "Security"). Key material never leaves
this module: reprs and error messages name key ids only.
"""

import base64
import binascii
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

KEYS_VARIABLE = "UPGRADE_ENCRYPTION_KEYS"
ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12  # the GCM standard nonce; random per payload (2^-32 collision bound is far off)
KEY_BYTES = 32  # AES-256
_TAG_BYTES = 16  # GCM's authentication tag, appended to the ciphertext
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class EncryptionConfigError(ValueError):
    """`UPGRADE_ENCRYPTION_KEYS` is malformed; the message names the variable, never a key."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{KEYS_VARIABLE}: {message}")


class UnknownEncryptionKey(ValueError):
    """A payload was encrypted under a key id this process does not have."""

    def __init__(self, key_id: str, known: Sequence[str]) -> None:
        super().__init__(
            f"payload encrypted with key id {key_id!r}, which is not in {KEYS_VARIABLE} "
            f"(configured: {', '.join(known)}); add that key back to read it"
        )
        self.key_id = key_id


class PayloadDecryptionError(ValueError):
    """A payload failed authentication: modified ciphertext, key id or nonce, or a wrong key."""


@dataclass(frozen=True)
class KeyRing:
    """Key ids to 32-byte keys; `current_id` encrypts new payloads. The repr shows ids only."""

    current_id: str
    keys: Mapping[str, bytes] = field(repr=False)

    @property
    def ids(self) -> list[str]:
        return list(self.keys)


def parse_key_ring(raw: str) -> KeyRing:
    """Parse `id:base64,id:base64,...` (first = current); errors name the variable and the key id."""
    keys: dict[str, bytes] = {}
    entries = [entry.strip() for entry in raw.split(",")]
    if not any(entries):
        raise EncryptionConfigError("is empty; expected id:base64-key[,id:base64-key...]")
    for position, entry in enumerate(entries, start=1):
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep:
            raise EncryptionConfigError(f"entry {position} is not of the form id:base64-key")
        if not _KEY_ID.match(key_id):
            raise EncryptionConfigError(
                f"entry {position}: the key id must be 1-64 of A-Z a-z 0-9 . _ -"
            )
        if key_id in keys:
            raise EncryptionConfigError(f"key id {key_id!r} is listed twice")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise EncryptionConfigError(f"key {key_id!r} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise EncryptionConfigError(
                f"key {key_id!r} is {len(key)} bytes; AES-256 needs exactly {KEY_BYTES} "
                f"(e.g. `openssl rand -base64 32`)"
            )
        keys[key_id] = key
    return KeyRing(current_id=next(iter(keys)), keys=keys)


class AesGcmCodec(PayloadCodec):
    """Encrypts with the ring's current key; decrypts with whichever key id a payload names."""

    def __init__(self, ring: KeyRing) -> None:
        super().__init__()
        self._current_id = ring.current_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}

    def __repr__(self) -> str:
        return f"AesGcmCodec(current={self._current_id!r}, keys={list(self._ciphers)!r})"

    @property
    def current_key_id(self) -> str:
        return self._current_id

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self._current_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        # Payloads written before encryption was turned on stay readable as they are.
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        raw_id = payload.metadata.get(KEY_ID_METADATA)
        if raw_id is None:
            raise PayloadDecryptionError(f"encrypted payload without {KEY_ID_METADATA!r}")
        key_id = raw_id.decode("utf-8", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownEncryptionKey(key_id, list(self._ciphers))
        if len(payload.data) < NONCE_BYTES + _TAG_BYTES:
            raise PayloadDecryptionError(f"encrypted payload (key id {key_id!r}) is truncated")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag:
            raise PayloadDecryptionError(
                f"encrypted payload (key id {key_id!r}) failed authentication: "
                "it was modified or encrypted with a different key of that id"
            ) from None
        original = Payload()
        original.ParseFromString(plain)
        return original
