"""Routes of ticketing: open a ticket for an escalation, close it."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandbox.routes.calls import KeyDep, PathId, SandboxDep
from sandbox.schemas import ClosedOut, CloseTicketIn, TicketIn, TicketOut
from sandbox.systems import tickets

router = APIRouter(prefix="/v1")


@router.post("/tickets", response_model=TicketOut)
async def escalate(
    sandbox: SandboxDep, request: Request, key: KeyDep, body: TicketIn
) -> JSONResponse:
    return await sandbox.mutate(request, key, (), lambda call: tickets.escalate(call, body))


@router.post("/tickets/{ticket_id}/close", response_model=ClosedOut)
async def close_ticket(
    sandbox: SandboxDep, request: Request, key: KeyDep, ticket_id: PathId, body: CloseTicketIn
) -> JSONResponse:
    return await sandbox.mutate(
        request, key, (), lambda call: tickets.close_ticket(call, ticket_id, body)
    )
