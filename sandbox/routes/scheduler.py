"""Routes of the resource scheduler: allocate compute for an order, check it, release it."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from domain.models import Identifier
from sandbox.routes.calls import KeyDep, PathId, SandboxDep
from sandbox.schemas import AllocationIn, AllocationOut, CompensationOut, ReleaseIn
from sandbox.systems import scheduler

router = APIRouter(prefix="/v1")


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
