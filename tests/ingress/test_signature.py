"""The notification signature: HMAC-SHA256 of the raw body, `X-Signature: sha256=<hex>`."""

import pytest

from ingress.signature import SignatureError, sign, verify

BODY = (
    b'{"order_id":"ORD-1","transaction_id":"txn-1","amount":"600.00","currency":"CNY",'
    b'"status":"succeeded"}'
)
SECRET = "dev-alipay-secret"
# `printf '%s' "$BODY" | openssl dgst -sha256 -hmac dev-alipay-secret` (the README's example).
OPENSSL_DIGEST = "61c36f63ac0d4f4d92dda01ce85f5e95c7666d928a740ca19fbe4045da57fab4"


def test_sign_matches_openssl() -> None:
    assert sign(BODY, SECRET) == f"sha256={OPENSSL_DIGEST}"


def test_verify_accepts_the_signature_and_ignores_hex_case_and_spaces() -> None:
    verify(BODY, f"sha256={OPENSSL_DIGEST}", SECRET)
    verify(BODY, f" SHA256={OPENSSL_DIGEST.upper()} ", SECRET)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("   ", "missing"),
        (OPENSSL_DIGEST, "must be"),  # no scheme
        (f"sha1={OPENSSL_DIGEST}", "must be"),
        ("sha256=", "must be"),
        (f"sha256={OPENSSL_DIGEST[:-2]}", "does not match"),  # truncated
        (f"sha256={OPENSSL_DIGEST}00", "does not match"),  # extended
        ("sha256=é" + OPENSSL_DIGEST[1:], "does not match"),  # non-ASCII: refused, no TypeError
    ],
)
def test_verify_refuses_malformed_headers(header: str | None, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify(BODY, header, SECRET)


def test_verify_refuses_another_secret() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify(BODY, sign(BODY, "dev-wechat-pay-secret"), SECRET)


@pytest.mark.parametrize(
    "tampered",
    [
        BODY.replace(b"600.00", b"6000.00"),
        BODY.replace(b"succeeded", b"failed"),
        BODY + b" ",  # the same JSON, other bytes: the raw body is what is signed
        BODY.replace(b",", b", "),
    ],
)
def test_verify_refuses_a_body_changed_after_signing(tampered: bytes) -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify(tampered, sign(BODY, SECRET), SECRET)


def test_error_messages_never_contain_the_secret_or_the_expected_digest() -> None:
    with pytest.raises(SignatureError) as caught:
        verify(BODY, "sha256=00", SECRET)
    assert SECRET not in str(caught.value) and OPENSSL_DIGEST not in str(caught.value)
