"""The sandbox's HTTP routes, one module per simulated system (mirroring `sandbox.systems` and
`activities/`), plus the sandbox's own controls (`admin`).

Boundary: HTTP only. Each route validates its input, names the app ids the call concerns (for
the `flaky` token) and hands a function of `sandbox.systems` to one of the runners of
`sandbox.routes.calls`; the function of the same name does the work. `ROUTERS` is what the app
mounts, in this order.
"""

from fastapi import APIRouter

from sandbox.routes import (
    admin,
    billing,
    config,
    entitlements,
    notifications,
    orders,
    payments,
    scheduler,
    statement,
    tickets,
)

ROUTERS: tuple[APIRouter, ...] = (
    payments.router,
    orders.router,
    billing.router,
    scheduler.router,
    config.router,
    entitlements.router,
    notifications.router,
    tickets.router,
    admin.router,
    statement.router,
)
