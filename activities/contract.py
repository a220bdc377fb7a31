"""The client side of the platform's REST contract, without any HTTP library: how paths are
built, how an error answer becomes a Temporal error, how a success answer becomes a result model.

Kept free of `httpx` so the activity modules (which the workflow imports, passed through its
sandbox, to reference activity methods) stay light; `activities.http` does the I/O.

Error mapping (the tree is drawn in `domain.errors`):

    409 + business type (ReconciliationMismatch, CapacityRefused, PaymentFailed,
          StaleAccountVersion, OrderCompensated, RefundRefused)
                                  -> ApplicationError(type=<that type>, non_retryable=True)
    any other 4xx except 429      -> ApplicationError(type=PlatformContractError, non_retryable)
    429, 5xx                      -> ApplicationError(type=PlatformUnavailable), retryable
    transport errors, timeouts    -> not mapped: they propagate and Temporal retries them
"""

from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError
from temporalio.exceptions import ApplicationError

from domain.errors import ErrorType

M = TypeVar("M", bound=BaseModel)


class RefundAnswer(BaseModel):
    """The channel's answer to a refund (`POST /v1/payments/transactions/{id}/refunds`), read by
    the saga's refund and by the custody's: one shape of the contract, one model."""

    refund_id: str | None
    status: Literal["refunded", "not_charged", "already_refunded"]
    amount: Decimal


IDEMPOTENCY_HEADER = "Idempotency-Key"
BUSINESS_ERRORS = frozenset(
    {
        ErrorType.RECONCILIATION_MISMATCH,
        ErrorType.CAPACITY_REFUSED,
        ErrorType.PAYMENT_FAILED,
        ErrorType.STALE_ACCOUNT_VERSION,
        ErrorType.ORDER_COMPENSATED,
        ErrorType.REFUND_REFUSED,
    }
)
# A Retry-After longer than this is not honoured as the next retry delay: the workflow's retry
# policy (and its timeouts) stay in charge of long waits.
MAX_RETRY_AFTER = timedelta(minutes=5)


def path(template: str, *segments: str | int) -> str:
    """Fill `{}` placeholders with URL-escaped segments (ids must never change the route)."""
    return template.format(*(quote(str(segment), safe="") for segment in segments))


def _retry_after(value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # the HTTP-date form is not worth parsing for a simulator-sized hint
    if seconds < 0:
        return None
    return min(timedelta(seconds=seconds), MAX_RETRY_AFTER)


def error_from_response(
    method: str,
    route: str,
    status: int,
    payload: Any,
    retry_after: str | None = None,
) -> ApplicationError:
    """The Temporal error for a non-2xx answer of the platform.

    The details carry `{"status", "type", "field", "message", "route"}` so the workflow can name
    the field in its status and escalation without parsing the message.
    """
    error = payload.get("error") if isinstance(payload, dict) else None
    error = error if isinstance(error, dict) else {}
    kind = str(error.get("type") or f"HTTP{status}")
    message = str(error.get("message") or f"HTTP {status}")
    field = error.get("field")
    field = str(field) if field is not None else None
    details = {"status": status, "type": kind, "field": field, "message": message, "route": route}
    where = f"{method} {route}"

    if status == 409 and kind in BUSINESS_ERRORS:
        text = f"{message} (field: {field})" if field else message
        return ApplicationError(text, details, type=kind, non_retryable=True)
    if status == 429 or status >= 500:
        return ApplicationError(
            f"platform unavailable: {where} answered {status} ({kind}: {message})",
            details,
            type=ErrorType.PLATFORM_UNAVAILABLE.value,
            non_retryable=False,
            next_retry_delay=_retry_after(retry_after),
        )
    suffix = f", field {field}" if field else ""
    return ApplicationError(
        f"platform contract error: {where} answered {status} ({kind}: {message}{suffix})",
        details,
        type=ErrorType.PLATFORM_CONTRACT.value,
        non_retryable=True,
    )


def not_json(method: str, route: str, status: int) -> ApplicationError:
    return ApplicationError(
        f"platform contract error: {method} {route} answered {status} without a JSON body",
        {"status": status, "type": "MalformedResponse", "route": route},
        type=ErrorType.PLATFORM_CONTRACT.value,
        non_retryable=True,
    )


def parse(model: type[M], payload: Any, route: str) -> M:
    """A success answer as its result model; a malformed one is a contract break, not a retry."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ApplicationError(
            f"platform contract error: {route} answered a body that is not a "
            f"{model.__name__}: {exc.error_count()} problem(s), first: {exc.errors()[0]['msg']}",
            {"route": route, "type": "MalformedResponse"},
            type=ErrorType.PLATFORM_CONTRACT.value,
            non_retryable=True,
        ) from exc
