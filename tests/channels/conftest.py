"""Keys for the channel tests: generated once per session (2048-bit RSA takes a moment)."""

from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from channels.keys import generate_private_key, private_key_pem, public_key_pem


@dataclass(frozen=True)
class KeyPair:
    private: rsa.RSAPrivateKey
    private_pem: str
    public: rsa.RSAPublicKey
    public_pem: str


def _pair() -> KeyPair:
    key = generate_private_key()
    return KeyPair(key, private_key_pem(key), key.public_key(), public_key_pem(key.public_key()))


@pytest.fixture(scope="session")
def channel_key() -> KeyPair:
    """The channel's (Alipay's / WeChat Pay platform's) signing key."""
    return _pair()


@pytest.fixture(scope="session")
def foreign_key() -> KeyPair:
    """Someone else's key: what a forger signs with."""
    return _pair()
