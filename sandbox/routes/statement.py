"""`GET /v1/sandbox/statement[?date=YYYY-MM-DD]`: the bank statement of the settled corporate
transfers (`sandbox.bank_statement`), as `text/csv`. A sandbox control: no faults, no ledger."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from sandbox.bank_statement import statement_text
from sandbox.routes.calls import SandboxDep

router = APIRouter(prefix="/v1/sandbox", tags=["sandbox admin"])


@router.get("/statement", response_class=PlainTextResponse)
async def statement(
    sandbox: SandboxDep,
    day: Annotated[date | None, Query(alias="date", description="booking date (Beijing)")] = None,
) -> PlainTextResponse:
    text: str = await sandbox.admin(lambda call: statement_text(call, day))
    return PlainTextResponse(text, media_type="text/csv; charset=utf-8")
