"""Errors as RFC 9457 problem details (`application/problem+json`), one place for all of them.

Every error answer has `type`, `title`, `status`, `detail`; input errors also name the culprit in
`field` (the first one) and list every one in `errors` (`[{"field", "message"}]`). `type` is a
relative URI, `/problems/<kind>`, served by this app with a description of the kind, so a client
can switch on it and a person can look it up.

Boundary: shapes and mapping only. Which status a situation deserves is decided by the caller
raising `ProblemError`; pydantic validation errors (ours and FastAPI's) are turned into 422 here.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import InvalidOrder

MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger("ingress")


class Kind(StrEnum):
    INVALID_INPUT = "invalid-input"
    BAD_SIGNATURE = "bad-signature"
    UNAUTHORIZED = "unauthorized"
    BAD_LINK = "bad-link"
    UNKNOWN_CHANNEL = "unknown-channel"
    UPGRADE_NOT_FOUND = "upgrade-not-found"
    ORDER_NOT_STARTED = "order-not-started"
    UPGRADE_ENDED = "upgrade-ended"
    ORDER_CONFLICT = "order-conflict"
    MESSAGE_REFUSED = "message-refused"
    NOT_CONFIGURED = "not-configured"
    TEMPORAL_UNAVAILABLE = "temporal-unavailable"
    TIMEOUT = "timeout"
    HTTP_ERROR = "http-error"
    INTERNAL = "internal-error"


# Title (fixed per kind, RFC 9457 section 3.1.3) and what a client should do about it.
DESCRIPTIONS: dict[Kind, tuple[str, str]] = {
    Kind.INVALID_INPUT: (
        "Invalid input",
        "The body or a parameter is malformed; `field` names it. Nothing was changed.",
    ),
    Kind.BAD_SIGNATURE: (
        "Signature missing or invalid",
        "X-Signature must be sha256=<hex HMAC-SHA256 of the raw body with the channel's secret>. "
        "Nothing was delivered.",
    ),
    Kind.UNAUTHORIZED: (
        "Missing or invalid bearer token",
        "Send `Authorization: Bearer <token>`; resolve needs the operator token.",
    ),
    Kind.BAD_LINK: (
        "Status link missing, invalid or expired",
        "A status link's `token` is signed for one order and expires; `detail` says what is "
        "wrong. Ask the backend for a new link (`starter.py status-link ORDER_ID`).",
    ),
    Kind.UNKNOWN_CHANNEL: (
        "Unknown payment channel",
        "Channels are alipay, wechat_pay, bank_card and corporate_transfer.",
    ),
    Kind.UPGRADE_NOT_FOUND: ("Upgrade not found", "No upgrade was ever started for this order."),
    Kind.ORDER_NOT_STARTED: (
        "No upgrade for this order yet",
        "The notification arrived before the backend started the upgrade. Nothing was recorded; "
        "deliver it again later (see Retry-After).",
    ),
    Kind.UPGRADE_ENDED: (
        "The upgrade has ended",
        "The run ended before this message could change it (e.g. it expired without a payment): "
        "a person must look, e.g. refund the transaction.",
    ),
    Kind.ORDER_CONFLICT: (
        "The order differs from the one already started",
        "An upgrade already exists for this order id with different contents; `field` names the "
        "first difference. Nothing was started.",
    ),
    Kind.MESSAGE_REFUSED: (
        "The upgrade refused the message in its current stage",
        "The run is not in a stage where this decision applies; `detail` says why and `field` "
        "names the culprit. Nothing was changed.",
    ),
    Kind.NOT_CONFIGURED: (
        "Not configured",
        "The secret or token this endpoint needs is not set on the server; it stays closed.",
    ),
    Kind.TEMPORAL_UNAVAILABLE: (
        "Temporal unavailable",
        "The orchestration service could not be reached. Try again later (see Retry-After).",
    ),
    Kind.TIMEOUT: (
        "The upgrade did not answer in time",
        "The message may still be applied; retrying is safe (messages are idempotent).",
    ),
    Kind.HTTP_ERROR: ("HTTP error", "See the status code."),
    Kind.INTERNAL: ("Internal error", "An unexpected error; it has been logged."),
}


class FieldError(BaseModel):
    field: str = Field(examples=["amount"])
    message: str = Field(examples=["Input should be greater than 0"])


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(examples=["/problems/invalid-input"])
    title: str = Field(examples=["Invalid input"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["amount: Input should be greater than 0"])
    field: str | None = Field(default=None, examples=["amount"])
    errors: list[FieldError] = Field(default_factory=list)


class ProblemError(Exception):
    """Raised by routes to answer with a problem; `field` names the culprit for input errors."""

    def __init__(
        self,
        status: int,
        kind: Kind,
        detail: str,
        *,
        field: str | None = None,
        errors: list[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.field = field
        self.errors = (
            errors
            if errors is not None
            else ([FieldError(field=field, message=detail)] if field else [])
        )
        self.headers = dict(headers or {})

    def problem(self) -> Problem:
        return Problem(
            type=f"/problems/{self.kind.value}",
            title=DESCRIPTIONS[self.kind][0],
            status=self.status,
            detail=self.detail,
            field=self.field,
            errors=self.errors,
        )


def invalid(field: str, message: str) -> ProblemError:
    return ProblemError(422, Kind.INVALID_INPUT, f"{field}: {message}", field=field)


def _field_errors(errors: list[Any], drop_prefix: tuple[str, ...]) -> list[FieldError]:
    out: list[FieldError] = []
    for error in errors:
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, InvalidOrder):  # the catalog's checks name their own field
            out.append(FieldError(field=cause.field, message=cause.message))
            continue
        if error.get("type") == "json_invalid":  # FastAPI's loc is ("body", byte offset)
            out.append(FieldError(field="body", message=f"not valid JSON: {error.get('msg')}"))
            continue
        loc = [str(part) for part in error.get("loc", ())]
        while loc and loc[0] in drop_prefix:
            loc.pop(0)
        out.append(FieldError(field=".".join(loc) or "body", message=str(error.get("msg", ""))))
    return out


def from_validation(err: ValidationError | RequestValidationError) -> ProblemError:
    """A 422 naming the first invalid field and listing all of them."""
    errors = _field_errors(list(err.errors()), drop_prefix=("body", "path", "query"))
    if not errors:
        errors = [FieldError(field="body", message="invalid")]
    first = errors[0]
    return ProblemError(
        422, Kind.INVALID_INPUT, f"{first.field}: {first.message}", field=first.field,
        errors=errors,
    )  # fmt: skip


def problem_response(error: ProblemError) -> JSONResponse:
    return JSONResponse(
        error.problem().model_dump(mode="json", exclude_none=True),
        status_code=error.status,
        media_type=MEDIA_TYPE,
        headers=error.headers,
    )


async def _on_problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(exc)


async def _on_request_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(from_validation(exc))


async def _on_http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(
        ProblemError(
            exc.status_code, Kind.HTTP_ERROR, str(exc.detail), headers=getattr(exc, "headers", None)
        )
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", path=request.url.path, error=type(exc).__name__)
    return problem_response(
        ProblemError(500, Kind.INTERNAL, "an unexpected error occurred; it has been logged")
    )


def _document_problem_media_type(app: FastAPI) -> None:
    """FastAPI files every response model under `application/json`; ours are problem+json."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = generate()
            for operations in spec.get("paths", {}).values():
                for operation in operations.values():
                    for answer in operation.get("responses", {}).values():
                        content = answer.get("content", {})
                        schema = content.get("application/json", {}).get("schema", {})
                        if str(schema.get("$ref", "")).endswith("/Problem"):
                            content.pop(MEDIA_TYPE, None)
                            content[MEDIA_TYPE] = content.pop("application/json")
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    _document_problem_media_type(app)
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(HTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
    app.include_router(router)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting problem answers for these statuses."""
    return {status: {"model": Problem, "description": _WHY[status]} for status in statuses}


_WHY: dict[int, str] = {
    401: "Missing or invalid credentials (signature or bearer token)",
    403: "A status link that is invalid, another order's, or expired",
    404: "Not found",
    409: "Conflicts with the upgrade's state",
    413: "The body is too large",
    422: "Invalid input; `field` names it",
    503: "Temporal unreachable, or not configured",
    504: "Temporal did not answer in time",
}


class ProblemType(BaseModel):
    type: str
    title: str
    description: str


router = APIRouter(tags=["problems"])


@router.get(
    "/problems/{kind}",
    response_model=ProblemType,
    summary="Describe a problem type",
    description="The `type` URI of every error answer resolves here.",
    responses=responses(404, 422),
)
async def describe_problem(kind: str) -> ProblemType:
    try:
        known = Kind(kind)
    except ValueError:
        raise ProblemError(404, Kind.HTTP_ERROR, f"no problem type {kind!r}") from None
    title, description = DESCRIPTIONS[known]
    return ProblemType(type=f"/problems/{known.value}", title=title, description=description)
