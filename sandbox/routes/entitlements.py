"""Routes of entitlements (activate, deactivate an order's grant, read the effective state) and of
the console cache."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandbox.routes.calls import KeyDep, PathId, SandboxDep
from sandbox.schemas import (
    ActivateIn,
    ActiveOut,
    CacheInvalidateIn,
    CompensationOut,
    DeactivateIn,
    EntitlementsOut,
    InvalidatedOut,
)
from sandbox.systems import entitlements

router = APIRouter(prefix="/v1")


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
        request,
        key,
        (body.app_id,),
        lambda call: entitlements.invalidate_console_cache(call, body),
    )


@router.get("/entitlements/apps/{app_id}", response_model=EntitlementsOut)
async def get_entitlements(sandbox: SandboxDep, app_id: PathId) -> JSONResponse:
    return await sandbox.read((app_id,), lambda call: entitlements.read_entitlements(call, app_id))
