"""`GET /healthz` (the process answers) and `GET /readyz` (Temporal is reachable).

Liveness never touches Temporal, so an orchestrator does not restart the ingress because the
cluster is down; readiness does (a health RPC with a 2 s timeout), so traffic is held back then.
"""

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ingress.problems import responses
from ingress.temporal_link import TemporalLink

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    namespace: str


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Temporal is reachable",
    responses=responses(503),
)
async def readyz(request: Request) -> Readiness:
    link: TemporalLink = request.app.state.temporal
    return Readiness(namespace=await link.check_ready())
