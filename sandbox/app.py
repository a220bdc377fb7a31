"""The sandbox's HTTP surface: FastAPI routes of the platform contract (`docs/platform-api.md`).

Boundary: HTTP only. Each route validates its input, names the app ids the call concerns (for
the `flaky` token), and hands a function of `sandbox.systems` to one of three runners:

- `mutate`  POST with an `Idempotency-Key`: faults, then one store transaction that replays the
            stored answer for a known key or applies the call and stores its answer.
- `read`    GET: faults (never "after": nothing to apply), then a read transaction.
- `admin`   sandbox controls: no faults, no idempotency, never in the ledger.

`create_app` takes the settings (serving) or an open `Store` (tests) plus an injectable clock,
random generator and sleep, so tests move time by hand and never wait.
"""

import random
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.catalog import Catalog, load_catalog
from domain.models import Currency, Identifier, Money, PaymentMethod
from sandbox.errors import ApiError, BadRequest, Unavailable, error_body
from sandbox.faults import FaultInjector, Sleep, Verdict
from sandbox.schemas import (
    ID_PATTERN,
    ActivateIn,
    ActiveOut,
    AllocationIn,
    AllocationOut,
    ApprovalOut,
    BillingPlanIn,
    BillingPlanOut,
    CacheInvalidateIn,
    ClientRefreshIn,
    ClosedOut,
    CloseTicketIn,
    CompensationOut,
    DeactivateIn,
    FaultSettings,
    HealthOut,
    InvalidatedOut,
    MediaProfileIn,
    MediaProfileOut,
    NotificationIn,
    NotificationOut,
    OrderRef,
    PublishIn,
    PublishOut,
    PushIn,
    PushOut,
    ReconcileIn,
    ReconcileOut,
    RefreshOut,
    RefundIn,
    RefundOut,
    RegionsOut,
    ReleaseIn,
    RollbackIn,
    TicketIn,
    TicketOut,
    TransactionOut,
)
from sandbox.settings import SandboxSettings
from sandbox.store import Store, StoredResponse, Tx, replay_or_apply
from sandbox.systems import (
    billing,
    config,
    entitlements,
    notifications,
    orders,
    payments,
    scheduler,
    tickets,
)
from sandbox.systems.call import Call

Clock = Callable[[], datetime]
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Sandbox:
    """Everything a route needs, built once per app."""

    store: Store
    faults: FaultInjector
    clock: Clock
    time_scale: float
    catalog: Catalog

    def _call(self, tx: Tx, now: datetime, key: str | None = None) -> Call:
        return Call(tx=tx, now=now, time_scale=self.time_scale, catalog=self.catalog, key=key)

    async def mutate(
        self,
        request: Request,
        key: str,
        app_ids: Iterable[str | None],
        work: Callable[[Call], BaseModel],
    ) -> JSONResponse:
        verdict = await self.faults.on_call(app_ids, mutating=True)
        if verdict is Verdict.FAIL_BEFORE:
            return _unavailable()
        now = self.clock()
        fingerprint = f"{request.method} {request.url.path}"

        def unit(tx: Tx) -> StoredResponse:
            call = self._call(tx, now, key)
            return replay_or_apply(
                tx,
                key=key,
                fingerprint=fingerprint,
                now=now,
                apply=lambda: work(call).model_dump(mode="json"),
            )

        stored = await self.store.run(unit)
        if verdict is Verdict.FAIL_AFTER:
            return _unavailable()
        headers = {REPLAYED_HEADER: "true"} if stored.replayed else None
        return JSONResponse(stored.body, status_code=stored.status, headers=headers)

    async def read(
        self, app_ids: Iterable[str | None], work: Callable[[Call], BaseModel]
    ) -> JSONResponse:
        if await self.faults.on_call(app_ids, mutating=False) is not Verdict.PASS:
            return _unavailable()
        now = self.clock()
        result = await self.store.run(lambda tx: work(self._call(tx, now)))
        return JSONResponse(result.model_dump(mode="json"))

    async def admin(self, work: Callable[[Call], Any]) -> Any:
        now = self.clock()
        return await self.store.run(lambda tx: work(self._call(tx, now)))


def _unavailable() -> JSONResponse:
    error = Unavailable("injected fault: the platform is unavailable, retry later")
    return JSONResponse(error.body(), status_code=error.status, headers={"Retry-After": "1"})


def get_sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def idempotency_key(
    key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> str:
    # A dependency, so a missing key answers 400 before the body is even validated.
    if key is None or not key.strip():
        raise BadRequest(
            "missing Idempotency-Key header: every mutating call must carry one",
            field="Idempotency-Key",
            type="MissingIdempotencyKey",
        )
    if len(key) > MAX_KEY_LENGTH:
        raise BadRequest(
            f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters", field="Idempotency-Key"
        )
    return key


SandboxDep = Annotated[Sandbox, Depends(get_sandbox)]
KeyDep = Annotated[str, Depends(idempotency_key)]
PathId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
Version = Annotated[int, Path(ge=1)]

router = APIRouter(prefix="/v1")
admin = APIRouter(prefix="/v1/sandbox", tags=["sandbox admin"])


# Payment channel -------------------------------------------------------------------------------
@router.get("/payments/transactions/{transaction_id}", response_model=TransactionOut)
async def confirm_payment_status(
    sandbox: SandboxDep,
    transaction_id: PathId,
    order_id: Annotated[Identifier | None, Query()] = None,
    method: Annotated[PaymentMethod | None, Query()] = None,
    amount: Annotated[Money | None, Query()] = None,
    currency: Annotated[Currency | None, Query()] = None,
) -> JSONResponse:
    return await sandbox.read(
        (),
        lambda call: payments.confirm_payment_status(
            call,
            transaction_id,
            order_id=order_id,
            method=method,
            amount=amount,
            currency=currency,
        ),
    )


@router.post("/payments/transactions/{transaction_id}/refunds", response_model=RefundOut)
async def refund_payment(
    sandbox: SandboxDep, request: Request, key: KeyDep, transaction_id: PathId, body: RefundIn
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (), lambda call: payments.refund_payment(call, transaction_id, body)
    )


# Orders and billing ----------------------------------------------------------------------------
@router.post("/orders/{order_id}/reconcile", response_model=ReconcileOut)
async def reconcile_order(
    sandbox: SandboxDep, request: Request, key: KeyDep, order_id: PathId, body: ReconcileIn
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (body.app_id,), lambda call: orders.reconcile_order(call, order_id, body)
    )


@router.post("/billing/accounts/{account_id}/plan", response_model=BillingPlanOut)
async def update_billing_plan(
    sandbox: SandboxDep, request: Request, key: KeyDep, account_id: PathId, body: BillingPlanIn
) -> JSONResponse:
    return await sandbox.mutate(
        request,
        key,
        (body.app_id,),
        lambda call: billing.update_billing_plan(call, account_id, body),
    )


@router.post("/billing/accounts/{account_id}/plan/revert", response_model=CompensationOut)
async def revert_billing_plan(
    sandbox: SandboxDep, request: Request, key: KeyDep, account_id: PathId, body: OrderRef
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (), lambda call: billing.revert_billing_plan(call, account_id, body)
    )


# Resource scheduler ----------------------------------------------------------------------------
@router.post("/scheduler/allocations", response_model=AllocationOut)
async def allocate_resources(
    sandbox: SandboxDep, request: Request, key: KeyDep, body: AllocationIn
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (body.app_id,), lambda call: scheduler.allocate_resources(call, body)
    )


@router.get("/scheduler/allocations/{order_id}", response_model=AllocationOut)
async def check_allocation(
    sandbox: SandboxDep,
    order_id: PathId,
    app_id: Annotated[Identifier | None, Query()] = None,
) -> JSONResponse:
    return await sandbox.read(
        (app_id,), lambda call: scheduler.check_allocation(call, order_id, app_id)
    )


@router.post("/scheduler/allocations/{order_id}/release", response_model=CompensationOut)
async def release_allocation(
    sandbox: SandboxDep, request: Request, key: KeyDep, order_id: PathId, body: ReleaseIn
) -> JSONResponse:
    return await sandbox.mutate(
        request,
        key,
        (body.app_id,),
        lambda call: scheduler.release_allocation(call, order_id, body),
    )


# Media and regional config ---------------------------------------------------------------------
@router.post("/media/profiles", response_model=MediaProfileOut)
async def generate_media_profile(
    sandbox: SandboxDep, request: Request, key: KeyDep, body: MediaProfileIn
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (body.app_id,), lambda call: config.generate_media_profile(call, body)
    )


@router.post("/config/apps/{app_id}/versions", response_model=PublishOut)
async def publish_config_version(
    sandbox: SandboxDep, request: Request, key: KeyDep, app_id: PathId, body: PublishIn
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (app_id,), lambda call: config.publish_config_version(call, app_id, body)
    )


@router.post("/config/apps/{app_id}/versions/{version}/push", response_model=PushOut)
async def push_config(
    sandbox: SandboxDep,
    request: Request,
    key: KeyDep,
    app_id: PathId,
    version: Version,
    body: PushIn,
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (app_id,), lambda call: config.push_config(call, app_id, version, body)
    )


@router.get("/config/apps/{app_id}/versions/{version}/regions", response_model=RegionsOut)
async def check_propagation(sandbox: SandboxDep, app_id: PathId, version: Version) -> JSONResponse:
    return await sandbox.read(
        (app_id,), lambda call: config.check_propagation(call, app_id, version)
    )


@router.post("/config/apps/{app_id}/rollback", response_model=CompensationOut)
async def rollback_config(
    sandbox: SandboxDep, request: Request, key: KeyDep, app_id: PathId, body: RollbackIn
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (app_id,), lambda call: config.rollback_config(call, app_id, body)
    )


# Entitlements and console ----------------------------------------------------------------------
@router.post("/entitlements/apps/{app_id}/activate", response_model=ActiveOut)
async def activate_entitlements(
    sandbox: SandboxDep, request: Request, key: KeyDep, app_id: PathId, body: ActivateIn
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (app_id,), lambda call: entitlements.activate_entitlements(call, app_id, body)
    )


@router.post("/entitlements/apps/{app_id}/deactivate", response_model=CompensationOut)
async def deactivate_entitlements(
    sandbox: SandboxDep, request: Request, key: KeyDep, app_id: PathId, body: DeactivateIn
) -> JSONResponse:
    return await sandbox.mutate(
        request,
        key,
        (app_id,),
        lambda call: entitlements.deactivate_entitlements(call, app_id, body),
    )


@router.post("/console/cache/invalidate", response_model=InvalidatedOut)
async def invalidate_console_cache(
    sandbox: SandboxDep, request: Request, key: KeyDep, body: CacheInvalidateIn
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (body.app_id,), lambda call: entitlements.invalidate_console_cache(call, body)
    )


# Notifications and clients ---------------------------------------------------------------------
@router.post("/notifications", response_model=NotificationOut)
async def notify_customer(
    sandbox: SandboxDep, request: Request, key: KeyDep, body: NotificationIn
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (body.app_id,), lambda call: notifications.notify_customer(call, body)
    )


@router.post("/clients/apps/{app_id}/refresh", response_model=RefreshOut)
async def request_client_refresh(
    sandbox: SandboxDep, request: Request, key: KeyDep, app_id: PathId, body: ClientRefreshIn
) -> JSONResponse:
    return await sandbox.mutate(
        request,
        key,
        (app_id,),
        lambda call: notifications.request_client_refresh(call, app_id, body),
    )


# Ticketing -------------------------------------------------------------------------------------
@router.post("/tickets", response_model=TicketOut)
async def escalate(
    sandbox: SandboxDep, request: Request, key: KeyDep, body: TicketIn
) -> JSONResponse:
    return await sandbox.mutate(request, key, (), lambda call: tickets.escalate(call, body))


@router.post("/tickets/{ticket_id}/close", response_model=ClosedOut)
async def close_ticket(
    sandbox: SandboxDep, request: Request, key: KeyDep, ticket_id: PathId, body: CloseTicketIn
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (), lambda call: tickets.close_ticket(call, ticket_id, body)
    )


# Sandbox admin ---------------------------------------------------------------------------------
@admin.post("/transactions/{transaction_id}/approve-review", response_model=ApprovalOut)
async def approve_review(sandbox: SandboxDep, transaction_id: PathId) -> ApprovalOut:
    result: ApprovalOut = await sandbox.admin(
        lambda call: payments.approve_review(call, transaction_id)
    )
    return result


@admin.get("/faults")
async def get_faults(sandbox: SandboxDep) -> FaultSettings:
    return sandbox.faults.settings


@admin.put("/faults")
async def put_faults(sandbox: SandboxDep, body: FaultSettings) -> FaultSettings:
    sandbox.faults.settings = body
    return body


@admin.get("/ledger")
async def ledger(
    sandbox: SandboxDep, order_id: Annotated[str | None, Query()] = None
) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = await sandbox.admin(lambda call: call.tx.ledger(order_id))
    return entries


# Error answers ---------------------------------------------------------------------------------
async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems: list[str] = []
    first_field: str | None = None
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            problems.append(f"the body is not valid JSON: {error.get('ctx', {}).get('error', '')}")
            continue
        # loc is ("body" | "query" | "path" | "header", name, ...): name the field, not the part.
        field = ".".join(str(part) for part in error.get("loc", ())[1:]) or None
        first_field = first_field or field
        problems.append(f"{field}: {error.get('msg')}" if field else str(error.get("msg")))
    return JSONResponse(
        error_body("ValidationError", "; ".join(problems), first_field), status_code=422
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
    message = str(exc.detail)
    if exc.status_code in (404, 405):
        message = f"{message}: {request.method} {request.url.path} is not part of the contract"
    return JSONResponse(error_body(kind, message), status_code=exc.status_code, headers=exc.headers)


def create_app(
    config: SandboxSettings | Store,
    *,
    clock: Clock = utc_now,
    rng: random.Random | None = None,
    sleep: Sleep | None = None,
    time_scale: float | None = None,
) -> FastAPI:
    """Build the sandbox app.

    `config`: the settings (the store opens under `settings.data_dir` and is closed at shutdown,
    the time scale comes from `settings.time_scale`) or an already open `Store` owned by the
    caller (tests; time scale 1 unless given).
    """
    if isinstance(config, SandboxSettings):
        store, owned = Store.in_dir(config.data_dir), True
        scale = time_scale if time_scale is not None else config.time_scale
    else:
        store, owned = config, False
        scale = time_scale if time_scale is not None else 1.0
    if scale <= 0:
        raise ValueError("time_scale must be > 0")
    faults = FaultInjector(rng, sleep) if sleep is not None else FaultInjector(rng)
    sandbox = Sandbox(
        store=store, faults=faults, clock=clock, time_scale=scale, catalog=load_catalog()
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            store.close()

    app = FastAPI(
        title="Upgrade Activation platform sandbox",
        version="1",
        description="The simulated company platform; contract in docs/platform-api.md.",
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    app.include_router(router)
    app.include_router(admin)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)

    @app.get("/healthz")
    async def healthz() -> HealthOut:
        return HealthOut(status="ok", time_scale=scale)

    return app


__all__ = ["Clock", "Sandbox", "create_app", "utc_now"]
