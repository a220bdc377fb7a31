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
    routes_events,
    routes_health,
    routes_payments,
    routes_upgrades,
    status_page,
)
from ingress.settings import IngressSettings
from ingress.temporal_link import TemporalLink

DESCRIPTION = """
The HTTP front door of the upgrade-activation saga.

* **Payment channels** post their asynchronous notifications to `/v1/payments/notify/{channel}`,
  signed with `X-Signature: sha256=<hex>` (HMAC-SHA256 of the raw body, keyed with the channel's
  secret). Delivery is idempotent on the transaction: re-deliveries answer `duplicate`.
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
    app.include_router(routes_payments.router)
    app.include_router(routes_upgrades.router)
    app.include_router(routes_events.router)
    app.include_router(status_page.router)
    app.include_router(routes_health.router)
    return app
