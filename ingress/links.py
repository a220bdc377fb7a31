"""Signed, expiring status links: the token of `GET /status/{order_id}?token=...` and of the event
stream `GET /v1/upgrades/{order_id}/events?token=...`, which the backend hands to a customer.

A token is `<expires>.<signature>`: `expires` the link's end in Unix seconds, `signature` the
URL-safe base64 (no padding) of HMAC-SHA256 over `status-link:v1:<order_id>:<expires>`, keyed with
`UPGRADE_STATUS_LINK_SECRET`. The order id is inside the signed text, so a token opens one order's
page only; the expiry too, so it cannot be extended by editing the number. Comparison is
constant-time. No secret: links can be neither made nor checked (the caller answers 503; a
missing variable never opens the door).

Boundary: pure functions (the clock is passed in), no I/O, no HTTP: `ingress.status_page` and
`ingress.routes_events` turn a `LinkError` into an answer, `cli` prints the URL.
"""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

VERSION = "v1"
STATUS_PATH = "/status/{order_id}"


class LinkError(Exception):
    """The token is missing, malformed, expired or not this order's; the message says which."""


def _signature(secret: str, order_id: str, expires: int) -> str:
    text = f"status-link:{VERSION}:{order_id}:{expires}".encode()
    digest = hmac.new(secret.encode("utf-8"), text, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_token(secret: str, order_id: str, expires_at: datetime) -> str:
    """The token of a link to `order_id`'s status, valid until `expires_at` (whole seconds)."""
    if not secret:
        raise LinkError("no status-link secret: links cannot be signed")
    expires = int(expires_at.timestamp())
    return f"{expires}.{_signature(secret, order_id, expires)}"


def check_token(secret: str, order_id: str, token: str | None, now: datetime) -> datetime:
    """When the link expires, or `LinkError` saying what is wrong with `token` for `order_id`."""
    if token is None or not token.strip():
        raise LinkError("the link has no token: ask for a new status link")
    expires_text, dot, given = token.strip().partition(".")
    if not dot or not expires_text.isascii() or not expires_text.isdigit() or not given:
        raise LinkError("the link's token is malformed: it must be '<expires>.<signature>'")
    expires = int(expires_text)
    expected = _signature(secret, order_id, expires)
    # Bytes on both sides: compare_digest refuses non-ASCII str, and a URL may carry anything.
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "surrogateescape")):
        raise LinkError(
            "the link's signature does not match this order (altered or another order's)"
        )
    expires_at = datetime.fromtimestamp(expires, UTC)
    if now >= expires_at:
        raise LinkError(
            f"the link expired at {expires_at:%Y-%m-%d %H:%M} UTC: ask for a new status link"
        )
    return expires_at


def status_url(base_url: str, order_id: str, token: str) -> str:
    """The customer's page: `<base>/status/<order_id>?token=<token>` (the id percent-encoded)."""
    path = STATUS_PATH.format(order_id=quote(order_id, safe=""))
    return f"{base_url.rstrip('/')}{path}?{urlencode({'token': token})}"


def signed_status_url(
    base_url: str, secret: str, order_id: str, now: datetime, ttl: timedelta
) -> str:
    return status_url(base_url, order_id, make_token(secret, order_id, now + ttl))
