"""The app factory: `create_app(settings, client)` wires settings, the Temporal link, the error
handlers and the routers into one FastAPI app.

Give it a connected client (tests, or a host process that has one); without one, its lifespan
connects through `service.temporal.connect` in the background and keeps trying, so the process
serves `/healthz` (and 503s) while Temporal is still down.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from ingress import (
    problems,
    routes_alipay,
    routes_events,
    routes_health,
    routes_payments,
    routes_statements,
    routes_upgrades,
    routes_wechat_pay,
    status_page,
)
from ingress.settings import IngressSettings
from ingress.temporal_link import TemporalLink

DESCRIPTION = """
The HTTP front door of the upgrade-activation saga.

* **Alipay** and **WeChat Pay** post their own notifications to `/v1/payments/alipay/notify`
  (form, RSA2) and `/v1/payments/wechat_pay/notify` (API v3: signed, AES-GCM encrypted); each is
  answered as its channel expects (`success`, or 204).
* **A payment gateway or backend that already verified the channel** (and bank cards) posts the
  normalised notice to `/v1/payments/notify/{channel}`, signed with `X-Signature: sha256=<hex>`
  (HMAC-SHA256 of the raw body, keyed with the channel's secret).
* Delivery is idempotent on the transaction: re-deliveries change nothing.
* **Corporate transfers** are confirmed by importing the bank statement
  (`POST /v1/payments/statements`, operator token), matched by each order's reference code.
* **The backend** starts upgrades, reads their live status and ETA, and cancels them
  (`Authorization: Bearer` with the backend or the operator token).
* **Operators** resolve upgrades that wait for a decision (operator token only).
* **Consoles** follow an upgrade as Server-Sent Events (`/v1/upgrades/{order_id}/events`), and
  **customers** open their status page (`/status/{order_id}?token=...`) from a signed link.

Errors are RFC 9457 problem details (`application/problem+json`) naming the offending `field`.
"""

TAGS = [
    {"name": "payment channels", "description": "Signed asynchronous payment notifications."},
    {"name": "upgrades", "description": "Start, follow, cancel and resolve upgrades."},
    {"name": "status page", "description": "The customer's page, opened from a signed link."},
    {"name": "health", "description": "Liveness and readiness probes."},
    {"name": "problems", "description": "The error types of this API."},
]


def create_app(settings: IngressSettings, client: Client | None = None) -> FastAPI:
    link = TemporalLink(client)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        link.start()
        try:
            yield
        finally:
            await link.stop()

    app = FastAPI(
        title="Upgrade Activation ingress",
        version="1.0.0",
        summary="Payment notifications, upgrade starts and operator decisions over HTTP.",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.temporal = link
    problems.install(app)
    app.include_router(routes_alipay.router)
    app.include_router(routes_wechat_pay.router)
    app.include_router(routes_payments.router)
    app.include_router(routes_statements.router)
    app.include_router(routes_upgrades.router)
    app.include_router(routes_events.router)
    app.include_router(status_page.router)
    app.include_router(routes_health.router)
    return app
