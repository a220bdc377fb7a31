"""Route of the orders system: reconciliation of an order with its account, app and payment."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandbox.routes.calls import KeyDep, PathId, SandboxDep
from sandbox.schemas import ReconcileIn, ReconcileOut
from sandbox.systems import orders

router = APIRouter(prefix="/v1")


@router.post("/orders/{order_id}/reconcile", response_model=ReconcileOut)
async def reconcile_order(
    sandbox: SandboxDep, request: Request, key: KeyDep, order_id: PathId, body: ReconcileIn
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (body.app_id,), lambda call: orders.reconcile_order(call, order_id, body)
    )
