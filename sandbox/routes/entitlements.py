"""Routes of entitlements (activate, deactivate an order's grant) and of the console cache."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandbox.routes.calls import KeyDep, PathId, SandboxDep
from sandbox.schemas import (
    ActivateIn,
    ActiveOut,
    CacheInvalidateIn,
    CompensationOut,
    DeactivateIn,
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
