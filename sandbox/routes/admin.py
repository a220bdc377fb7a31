"""The sandbox's own controls (not part of the platform): end a manual payment review, set the
fault switch, read the effect ledger. No faults, no idempotency, never in the ledger."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from sandbox.routes.calls import PathId, SandboxDep
from sandbox.schemas import ApprovalOut, FaultSettings
from sandbox.systems import payments

router = APIRouter(prefix="/v1/sandbox", tags=["sandbox admin"])


@router.post("/transactions/{transaction_id}/approve-review", response_model=ApprovalOut)
async def approve_review(sandbox: SandboxDep, transaction_id: PathId) -> ApprovalOut:
    result: ApprovalOut = await sandbox.admin(
        lambda call: payments.approve_review(call, transaction_id)
    )
    return result


@router.get("/faults")
async def get_faults(sandbox: SandboxDep) -> FaultSettings:
    return sandbox.faults.settings


@router.put("/faults")
async def put_faults(sandbox: SandboxDep, body: FaultSettings) -> FaultSettings:
    sandbox.faults.settings = body
    return body


@router.get("/ledger")
async def ledger(
    sandbox: SandboxDep, order_id: Annotated[str | None, Query()] = None
) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = await sandbox.admin(lambda call: call.tx.ledger(order_id))
    return entries
