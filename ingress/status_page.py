"""`GET /status/{order_id}?token=...`: the customer's status page, one small HTML page in English or
Chinese, opened from a signed, expiring link (`starter.py status-link ORDER_ID`).

What it shows, read live from the run (the `status` query, as every other door): what was bought,
where it is (payment confirmed, billing switched, regions applied n/N, active), the ETA in plain
words (or, honestly, why there is none), an open ticket when it is late, and what to do once it is
active (refresh or sign in again: media changes need it). While the run goes on, a few lines of
inline script follow the event stream (`ingress.routes_events`, with the same token) and reload
the page on each change. No external assets; a Content-Security-Policy with a per-response nonce
allows only our inline style and script; every value is HTML-escaped.

Boundary: the route and its headers. The HTML is `ingress.status_view`, its words
`ingress.page_text`; the link's check is `ingress.link_access`. Shows no personal data: no
account, app or transaction id.
"""

import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse

from client import upgrades
from ingress.link_access import check_link
from ingress.page_text import HTML_LANG, pick_language
from ingress.problems import ProblemError
from ingress.routes_upgrades import _not_found as not_found
from ingress.routes_upgrades import _order_id as valid_order_id
from ingress.settings import IngressSettings
from ingress.status_view import error_page, render
from ingress.temporal_link import TemporalLink, within

router = APIRouter(tags=["status page"])


def _headers(nonce: str | None) -> dict[str, str]:
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src {script}; script-src {script}; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        # The token is in the URL: never send it elsewhere, never keep the page in a cache.
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


@router.get(
    "/status/{order_id}",
    response_class=HTMLResponse,
    summary="The customer's status page (signed link)",
    description=(
        "HTML in English or Chinese (`?lang=en|zh`, else `Accept-Language`). `token` is a "
        "signed, expiring link made by `starter.py status-link ORDER_ID`. 403 for a missing, "
        "altered, other order's or expired token; 503 when `UPGRADE_STATUS_LINK_SECRET` is unset."
    ),
)
async def status_page(
    order_id: str,
    request: Request,
    token: Annotated[str | None, Query(description="the signed link's token")] = None,
    lang: Annotated[str | None, Query(description="en or zh")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    language = pick_language(lang, accept_language)
    settings: IngressSettings = request.app.state.settings
    link: TemporalLink = request.app.state.temporal
    try:
        order_id = valid_order_id(order_id)
        check_link(settings, order_id, token)
        status = await within(
            upgrades.upgrade_status(link.client(), order_id), settings.ingress_request_timeout_s
        )
    except ProblemError as problem:
        return HTMLResponse(
            error_page(problem, language), status_code=problem.status, headers=_headers(None)
        )
    except upgrades.UpgradeNotFound:
        missing = not_found(order_id)
        return HTMLResponse(error_page(missing, language), status_code=404, headers=_headers(None))
    nonce = secrets.token_urlsafe(16)
    page = render(status, language, datetime.now(UTC), token or "", nonce)
    return HTMLResponse(page, headers={**_headers(nonce), "Content-Language": HTML_LANG[language]})
