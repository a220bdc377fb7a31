"""Who may read one order's status without a bearer token: the holder of its signed link.

Turns `ingress.links` verdicts into answers: no `UPGRADE_STATUS_LINK_SECRET` is 503 (links are
closed, never open), a missing, malformed, altered, other order's or expired token 403 with the
reason. Used by the event stream (`?token=`, next to the bearer tokens of `ingress.auth`) and by
the customer's status page.
"""

from datetime import UTC, datetime
from enum import StrEnum

from ingress import links
from ingress.auth import Role, check_token
from ingress.problems import Kind, ProblemError
from ingress.settings import STATUS_LINK_SECRET_ENV, IngressSettings


class Access(StrEnum):
    """What the caller may see: everything (a bearer token) or the customer's view (a link)."""

    FULL = "full"
    LINK = "link"


def link_secret(settings: IngressSettings) -> str:
    if settings.status_link_secret is None:
        raise ProblemError(
            503,
            Kind.NOT_CONFIGURED,
            f"{STATUS_LINK_SECRET_ENV} is not set on the server: status links are closed",
        )
    return settings.status_link_secret.get_secret_value()


def check_link(settings: IngressSettings, order_id: str, token: str | None) -> datetime:
    """The link's expiry, or a 503/403 problem."""
    secret = link_secret(settings)
    try:
        return links.check_token(secret, order_id, token, datetime.now(UTC))
    except links.LinkError as error:
        raise ProblemError(403, Kind.BAD_LINK, str(error), field="token") from None


def check_bearer_or_link(
    settings: IngressSettings, order_id: str, bearer: str | None, token: str | None
) -> Access:
    """A `?token=` link is checked as a link; otherwise the backend's (or operator's) bearer."""
    if token is not None:
        check_link(settings, order_id, token)
        return Access.LINK
    check_token(settings, Role.BACKEND, bearer)
    return Access.FULL
