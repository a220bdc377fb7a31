"""Keys load in every form the channels hand them out; failures never show key material."""

from pathlib import Path

import pytest

from channels.keys import (
    KeyLoadError,
    load_private_key,
    load_public_key,
    public_key_base64,
)
from tests.channels.conftest import KeyPair


def test_a_public_key_loads_from_pem_a_file_or_bare_base64(
    channel_key: KeyPair, tmp_path: Path
) -> None:
    path = tmp_path / "alipay_public_key.pem"
    path.write_text(channel_key.public_pem)
    bare = public_key_base64(channel_key.public)
    for form in (channel_key.public_pem, str(path), bare, bare[:40] + "\n" + bare[40:]):
        assert load_public_key(form).public_numbers() == channel_key.public.public_numbers()


@pytest.mark.parametrize(
    "text", ["", "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"]
)
def test_a_bad_public_key_is_refused(text: str) -> None:
    with pytest.raises(KeyLoadError, match="the public key"):
        load_public_key(text)


def test_a_private_key_is_not_a_public_key_and_the_error_does_not_quote_it(
    channel_key: KeyPair,
) -> None:
    with pytest.raises(KeyLoadError) as refused:
        load_public_key(channel_key.private_pem)
    assert "PRIVATE" not in str(refused.value)
    assert load_private_key(channel_key.private_pem).key_size == 2048
