"""Routes of the payment channel: a transaction's status (read) and its refund."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from domain.models import Currency, Identifier, Money, PaymentMethod
from sandbox.routes.calls import KeyDep, PathId, SandboxDep
from sandbox.schemas import RefundIn, RefundOut, TransactionOut
from sandbox.systems import payments

router = APIRouter(prefix="/v1")


@router.get("/payments/transactions/{transaction_id}", response_model=TransactionOut)
async def confirm_payment_status(
    sandbox: SandboxDep,
    transaction_id: PathId,
    order_id: Annotated[Identifier | None, Query()] = None,
    method: Annotated[PaymentMethod | None, Query()] = None,
    amount: Annotated[Money | None, Query()] = None,
    currency: Annotated[Currency | None, Query()] = None,
) -> JSONResponse:
    return await sandbox.read(
        (),
        lambda call: payments.confirm_payment_status(
            call,
            transaction_id,
            order_id=order_id,
            method=method,
            amount=amount,
            currency=currency,
        ),
    )


@router.post("/payments/transactions/{transaction_id}/refunds", response_model=RefundOut)
async def refund_payment(
    sandbox: SandboxDep, request: Request, key: KeyDep, transaction_id: PathId, body: RefundIn
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (), lambda call: payments.refund_payment(call, transaction_id, body)
    )
