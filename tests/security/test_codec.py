"""The AES-GCM payload codec: round trip, tamper detection, rotation by key id, clear errors, and
the data converter that `service.temporal.connect` builds from settings."""

import json

import pytest
from pydantic import SecretStr, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes

from domain.models import UpgradeOrder
from service.codec import (
    ENCODING,
    KEY_ID_METADATA,
    AesGcmCodec,
    EncryptionConfigError,
    PayloadDecryptionError,
    UnknownEncryptionKey,
    parse_key_ring,
)
from service.settings import Settings, settings_error_line
from service.temporal import data_converter
from tests.security.keys import key_ring, new_key
from tests.support.saga_runs import make_order

ORDER = make_order("ORD-CODEC-1", account_id="acct-codec-7731", app_id="app-codec-4410")


def plain_payload() -> Payload:
    return pydantic_data_converter.payload_converter.to_payload(ORDER)


def codec_for(raw: str) -> AesGcmCodec:
    return AesGcmCodec(parse_key_ring(raw))


async def test_round_trip_restores_the_exact_payload_and_hides_the_plaintext() -> None:
    codec = codec_for(key_ring("k1"))
    original = plain_payload()
    [sealed] = await codec.encode([original])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID_METADATA] == b"k1"
    assert b"acct-codec-7731" not in sealed.SerializeToString()
    assert b"json/plain" not in sealed.SerializeToString()  # the original metadata is inside
    [restored] = await codec.decode([sealed])
    assert restored == original
    back = pydantic_data_converter.payload_converter.from_payload(restored, UpgradeOrder)
    assert back == ORDER


async def test_every_payload_gets_its_own_nonce() -> None:
    codec = codec_for(key_ring("k1"))
    first, second = await codec.encode([plain_payload(), plain_payload()])
    assert first.data[:12] != second.data[:12]
    assert first.data != second.data


@pytest.mark.parametrize("where", ["nonce", "ciphertext", "tag", "key id"])
async def test_a_modified_payload_fails_authentication(where: str) -> None:
    raw = key_ring("k1", "k0")
    codec = codec_for(raw)
    [sealed] = await codec.encode([plain_payload()])
    data = bytearray(sealed.data)
    if where == "nonce":
        data[0] ^= 0x01
    elif where == "ciphertext":
        data[20] ^= 0x01
    elif where == "tag":
        data[-1] ^= 0x01
    tampered = Payload(metadata=dict(sealed.metadata), data=bytes(data))
    if where == "key id":
        # Re-labelled with another configured key id: the AEAD binds the id, so this fails too.
        tampered.metadata[KEY_ID_METADATA] = b"k0"
    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        await codec.decode([tampered])


async def test_a_truncated_payload_is_a_clear_error() -> None:
    codec = codec_for(key_ring("k1"))
    [sealed] = await codec.encode([plain_payload()])
    short = Payload(metadata=dict(sealed.metadata), data=sealed.data[:10])
    with pytest.raises(PayloadDecryptionError, match="truncated"):
        await codec.decode([short])


async def test_rotation_new_payloads_use_the_new_key_old_ones_stay_readable() -> None:
    k1 = new_key()
    before = codec_for(f"k1:{k1}")
    [old] = await before.encode([plain_payload()])
    after = codec_for(f"k2:{new_key()},k1:{k1}")
    assert after.current_key_id == "k2"
    assert await after.decode([old]) == [plain_payload()]
    [new] = await after.encode([plain_payload()])
    assert new.metadata[KEY_ID_METADATA] == b"k2"
    # The retired-key-only process cannot read the new payload: it names the missing key id.
    with pytest.raises(UnknownEncryptionKey, match=r"'k2'.*UPGRADE_ENCRYPTION_KEYS.*k1"):
        await before.decode([new])


async def test_unencrypted_payloads_pass_through_decode() -> None:
    # Runs recorded before encryption was turned on stay readable.
    codec = codec_for(key_ring("k1"))
    assert await codec.decode([plain_payload()]) == [plain_payload()]


async def test_encrypted_payload_without_key_id_is_refused() -> None:
    codec = codec_for(key_ring("k1"))
    [sealed] = await codec.encode([plain_payload()])
    del sealed.metadata[KEY_ID_METADATA]
    with pytest.raises(PayloadDecryptionError, match=KEY_ID_METADATA):
        await codec.decode([sealed])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("k1:" + new_key()[:-8], "key 'k1' is"),  # 26 bytes, or bad padding: either names k1
        ("k1:AAAA", "key 'k1' is 3 bytes"),
        ("k1:!!notbase64!!", "key 'k1' is not valid base64"),
        ("nocolon", "entry 1 is not of the form"),
        (f"k1:{new_key()},k1:{new_key()}", "key id 'k1' is listed twice"),
        (f"bad id:{new_key()}", "entry 1: the key id"),
        (" , ", "is empty"),
    ],
)
def test_bad_key_config_names_the_variable(raw: str, message: str) -> None:
    with pytest.raises(EncryptionConfigError) as caught:
        parse_key_ring(raw)
    assert str(caught.value).startswith("UPGRADE_ENCRYPTION_KEYS: ")
    assert message in str(caught.value)


def test_bad_key_in_settings_is_one_line_naming_the_variable_without_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    short = "c2VjcmV0LWtleS1tYXRlcmlhbA=="  # base64 of "secret-key-material" (19 bytes)
    monkeypatch.setenv("UPGRADE_ENCRYPTION_KEYS", f"k1:{short}")
    with pytest.raises(ValidationError) as caught:
        Settings()
    line = settings_error_line(caught.value)
    assert line.startswith("UPGRADE_ENCRYPTION_KEYS: key 'k1' is 19 bytes"), line
    assert short not in str(caught.value) and short not in line


def test_converter_is_plain_without_keys_and_encrypting_with_them() -> None:
    assert data_converter(Settings(encryption_keys=None)) is pydantic_data_converter
    converter = data_converter(Settings(encryption_keys=SecretStr(key_ring("k9", "k8"))))
    assert isinstance(converter.payload_codec, AesGcmCodec)
    assert converter.payload_codec.current_key_id == "k9"
    # Failure messages and stack traces are encrypted too (they can quote ids and amounts).
    assert isinstance(converter.failure_converter, DefaultFailureConverterWithEncodedAttributes)
    # Still the pydantic converter underneath.
    assert converter.payload_converter_class is pydantic_data_converter.payload_converter_class


async def test_converter_encrypts_values_end_to_end() -> None:
    converter = data_converter(Settings(encryption_keys=SecretStr(key_ring("k1"))))
    [payload] = await converter.encode([ORDER])
    assert b"acct-codec-7731" not in payload.SerializeToString()
    [back] = await converter.decode([payload], [UpgradeOrder])
    assert back == ORDER
    assert json.loads((await pydantic_data_converter.encode([ORDER]))[0].data)["account_id"] == (
        "acct-codec-7731"
    )
