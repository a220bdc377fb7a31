"""RSA keys and certificates as the channels hand them out, loaded with `cryptography`.

Alipay's console shows its public key as bare base64 (no PEM lines); settings may also hold PEM
text or a path to a PEM file. All three load here. The private-key helpers are for the sending
side (the sandbox playing a channel, tests, `make run`'s development keys); a service that only
verifies never holds a channel's private key.

Boundary: reading the one file a setting names is the only I/O; errors say what could not be
loaded, never the key material.
"""

import base64
import binascii
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# RSA2 and WeChat Pay's SHA256-RSA2048 both mean 2048-bit keys; refuse anything weaker.
MIN_RSA_BITS = 2048


class KeyLoadError(ValueError):
    """A key or certificate could not be loaded; the message says which and why (no key bytes)."""


def require_rsa_public(key: object, what: str) -> rsa.RSAPublicKey:
    """`key` if it is an RSA public key of at least 2048 bits, else `KeyLoadError`."""
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyLoadError(f"{what} is not an RSA public key")
    if key.key_size < MIN_RSA_BITS:
        raise KeyLoadError(f"{what} has {key.key_size} bits; at least {MIN_RSA_BITS} are required")
    return key


def load_public_key(text_or_path: str, what: str = "the public key") -> rsa.RSAPublicKey:
    """An RSA public key from PEM text, a path to a PEM file, or bare base64 DER (Alipay's form)."""
    text = text_or_path.strip()
    if not text:
        raise KeyLoadError(f"{what} is empty")
    if "-----BEGIN" not in text and len(text) < 1024 and _is_file(text):
        text = Path(text).read_text(encoding="utf-8").strip()
    try:
        if "-----BEGIN" in text:
            if "CERTIFICATE" in text.split("-----")[1]:
                key: object = x509.load_pem_x509_certificate(text.encode()).public_key()
            else:
                key = serialization.load_pem_public_key(text.encode())
        else:
            der = base64.b64decode("".join(text.split()), validate=True)
            key = serialization.load_der_public_key(der)
    except (ValueError, binascii.Error) as exc:
        raise KeyLoadError(f"{what} is neither PEM, a PEM file nor base64 DER") from exc
    return require_rsa_public(key, what)


def load_certificate(pem: str | bytes, what: str = "the certificate") -> x509.Certificate:
    """An X.509 certificate (PEM) whose key is RSA of at least 2048 bits."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise KeyLoadError(f"{what} is not a PEM certificate") from exc
    require_rsa_public(cert.public_key(), what)
    return cert


def load_private_key(pem: str | bytes, what: str = "the private key") -> rsa.RSAPrivateKey:
    """An unencrypted RSA private key from PEM (PKCS#1 or PKCS#8)."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyLoadError(f"{what} is not an unencrypted PEM private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyLoadError(f"{what} is not an RSA private key")
    return key


def generate_private_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key (development keys, tests)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)


def private_key_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def public_key_base64(key: rsa.RSAPublicKey) -> str:
    """Bare base64 DER, the form Alipay's console shows."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def _is_file(text: str) -> bool:
    """Whether `text` names a file; bare base64 longer than a file name (255 bytes) is none."""
    try:
        return Path(text).is_file()
    except OSError:  # ENAMETOOLONG: a bare key, not a path
        return False
