"""Routes of customer notifications and of the running clients' config refresh."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandbox.routes.calls import KeyDep, PathId, SandboxDep
from sandbox.schemas import ClientRefreshIn, NotificationIn, NotificationOut, RefreshOut
from sandbox.systems import notifications

router = APIRouter(prefix="/v1")


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
