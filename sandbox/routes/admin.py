"""The sandbox's own controls (not part of the platform): end a manual payment review, settle a
transaction late, set the fault switch, read the effect ledger and the channel's money. No faults,
no idempotency, never in the ledger."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from sandbox.routes.calls import PathId, SandboxDep
from sandbox.schemas import ApprovalOut, FaultSettings, MoneyOut, SettleIn, TransactionOut
from sandbox.systems import money, payments

router = APIRouter(prefix="/v1/sandbox", tags=["sandbox admin"])


@router.post("/transactions/{transaction_id}/approve-review", response_model=ApprovalOut)
async def approve_review(sandbox: SandboxDep, transaction_id: PathId) -> ApprovalOut:
    result: ApprovalOut = await sandbox.admin(
        lambda call: payments.approve_review(call, transaction_id)
    )
    return result


@router.post("/transactions/{transaction_id}/settle", response_model=TransactionOut)
async def settle(sandbox: SandboxDep, transaction_id: PathId, body: SettleIn) -> TransactionOut:
    result: TransactionOut = await sandbox.admin(
        lambda call: payments.settle(call, transaction_id, body)
    )
    return result


@router.get("/money", response_model=list[MoneyOut])
async def channel_money(sandbox: SandboxDep) -> list[MoneyOut]:
    result: list[MoneyOut] = await sandbox.admin(money.money)
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
