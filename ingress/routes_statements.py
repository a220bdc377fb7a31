"""`POST /v1/payments/statements`: import a bank statement, as `starter.py import-statement` does.

Operator token only: a statement confirms payments. The body is the statement file itself
(UTF-8 CSV with the header `booking_date,amount,currency,payer_name,memo,bank_reference`, at
most 32 MiB). The answer lists every new line with its outcome (`matched`, kept for a person, or
`retry`), and the bank references skipped as already imported: posting the same file twice
changes nothing. A file that is not a statement is 422 listing every bad line (`line N`), and
nothing of it is imported. See `client.statement_import` for the steps.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from temporalio.service import RPCError

from channels.statement import StatementError
from client.payment_orders import TooManyOpenTransfers
from client.review_store import ReviewStore
from client.statement_import import ImportReport, import_statement
from ingress.auth import Role, require
from ingress.problems import FieldError, Kind, ProblemError, responses
from ingress.settings import IngressSettings, journal
from ingress.temporal_link import TemporalLink, unavailable

router = APIRouter(tags=["payment channels"])

MAX_STATEMENT_BYTES = 32 * 1024 * 1024
EXAMPLE_STATEMENT = """booking_date,amount,currency,payer_name,memo,bank_reference
2026-05-28,1700.00,CNY,示例科技有限公司,货款 UA8FKSS9KEM,CMB20260528000001
2026-05-28,1200.00,CNY,"Acme, Ltd.","contract 12, UA7ZZWR3WZM",CMB20260528000002
2026-05-29,88.00,CNY,张三,服务费,CMB20260529000001
"""


async def _read(request: Request) -> str:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_STATEMENT_BYTES:
            raise ProblemError(
                413, Kind.INVALID_INPUT, f"the statement exceeds {MAX_STATEMENT_BYTES} bytes",
                field="body",
            )  # fmt: skip
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError as err:
        raise ProblemError(
            422, Kind.INVALID_INPUT, f"body: the statement is not UTF-8 (byte {err.start})",
            field="body",
        ) from None  # fmt: skip


@router.post(
    "/v1/payments/statements",
    response_model=ImportReport,
    summary="Import a bank statement (corporate transfers)",
    description=(
        "Confirms each corporate-transfer order whose reference code (`payment_reference` in "
        "its status) appears in exactly one line's memo with exactly its amount; every other "
        "line is kept durably for a person (`starter.py review`). Idempotent on "
        "`bank_reference`. Operator token only."
    ),
    dependencies=[require(Role.OPERATOR)],
    responses=responses(401, 413, 422, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}, "example": EXAMPLE_STATEMENT}},
        }
    },
)
async def import_bank_statement(
    request: Request,
    source: Annotated[str, Query(max_length=200, description="a name for the file")] = "upload",
) -> ImportReport:
    settings: IngressSettings = request.app.state.settings
    link: TemporalLink = request.app.state.temporal
    text = await _read(request)
    client = link.client()
    try:
        return await import_statement(
            client,
            text,
            source=source,
            store=ReviewStore.in_dir(settings.data_dir),
            journal=journal(settings),
        )
    except StatementError as err:
        errors = [
            FieldError(field=f"line {p.line_number}", message=p.message) for p in err.problems
        ]
        raise ProblemError(
            422, Kind.INVALID_INPUT, f"not a bank statement: {err}", field=errors[0].field,
            errors=errors,
        ) from None  # fmt: skip
    except TooManyOpenTransfers as err:
        raise ProblemError(503, Kind.TEMPORAL_UNAVAILABLE, str(err)) from None
    except RPCError as err:
        raise unavailable(err) from err
