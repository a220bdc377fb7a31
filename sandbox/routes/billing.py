"""Routes of billing: switch an account's plan for an order, revert that switch, and read the
account (the fold of its live orders, with its version)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandbox.routes.calls import KeyDep, PathId, SandboxDep
from sandbox.schemas import (
    BillingAccountOut,
    BillingPlanIn,
    BillingPlanOut,
    CompensationOut,
    OrderRef,
)
from sandbox.systems import billing

router = APIRouter(prefix="/v1")


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


@router.get("/billing/accounts/{account_id}", response_model=BillingAccountOut)
async def get_billing_account(sandbox: SandboxDep, account_id: PathId) -> JSONResponse:
    return await sandbox.read((), lambda call: billing.read_account(call, account_id))
