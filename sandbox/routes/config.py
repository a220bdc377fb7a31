"""Routes of media profiles and the regional config service: generate a profile, publish a
version, push it to a region, read its propagation, roll it back (forward), read what every
region serves now, and the service's current apply latency per change kind."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from sandbox.routes.calls import KeyDep, PathId, SandboxDep, Version
from sandbox.schemas import (
    ApplyLatencyOut,
    CompensationOut,
    MediaProfileIn,
    MediaProfileOut,
    PublishIn,
    PublishOut,
    PushIn,
    PushOut,
    RegionsCurrentOut,
    RegionsOut,
    RollbackIn,
)
from sandbox.systems import apply_latency, config

router = APIRouter(prefix="/v1")


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


@router.get("/config/apps/{app_id}/regions/current", response_model=RegionsCurrentOut)
async def get_regions_current(sandbox: SandboxDep, app_id: PathId) -> JSONResponse:
    return await sandbox.read((app_id,), lambda call: config.read_regions(call, app_id))


@router.get("/config/apply-latency", response_model=ApplyLatencyOut)
async def get_apply_latency(
    sandbox: SandboxDep,
    within_s: Annotated[float | None, Query(ge=0, le=86_400 * 30)] = None,
) -> JSONResponse:
    return await sandbox.read((), lambda call: apply_latency.apply_latency(call, within_s))
