"""Signatures of payment notifications: `X-Signature: sha256=<hex>`, an HMAC-SHA256 of the raw
request body keyed with the channel's secret.

The raw bytes, never a re-serialised JSON: any change to the body (a space, a key order, a digit
of the amount) must invalidate the signature. Comparison is constant-time. Pure functions, no I/O.
"""

import hashlib
import hmac

HEADER = "X-Signature"
SCHEME = "sha256"


class SignatureError(Exception):
    """The signature is missing, malformed or does not match; the message says which (no secret)."""


def sign(body: bytes, secret: str) -> str:
    """The header value a channel sends for `body`: `sha256=<hex>`."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def verify(body: bytes, header: str | None, secret: str) -> None:
    """Raise `SignatureError` unless `header` is `sign(body, secret)` (hex case ignored)."""
    if header is None or not header.strip():
        raise SignatureError(f"the {HEADER} header is missing")
    scheme, separator, given = header.strip().partition("=")
    if not separator or scheme.strip().lower() != SCHEME or not given.strip():
        raise SignatureError(f"the {HEADER} header must be '{SCHEME}=<hex digest>'")
    expected = sign(body, secret).partition("=")[2]
    # Bytes on both sides: compare_digest refuses non-ASCII str, and a header may carry anything.
    if not hmac.compare_digest(
        expected.encode("ascii"), given.strip().lower().encode("utf-8", "surrogateescape")
    ):
        raise SignatureError("the signature does not match the body")
