"""The sandbox's error answers: one exception per HTTP status class, one JSON shape for all.

    ApiError(status, type, message, field)   ->  {"error": {"type", "message", "field"?}}
    ├── BadRequest      400  malformed call (e.g. no Idempotency-Key)
    ├── NotFound        404  unknown transaction, allocation, version, ticket
    ├── Unprocessable   422  well-formed but impossible now (unknown region, key reused elsewhere)
    ├── BusinessRefusal 409  `type` is always a `domain.errors.ErrorType` value
    └── Unavailable     503  fault (injected), retryable

Raised inside a store transaction, an `ApiError` rolls it back, so a refused call has no effect
and is never stored under its idempotency key (a later retry is evaluated afresh).
"""

from typing import Any

from domain.errors import ErrorType


class ApiError(Exception):
    status = 500
    default_type = "InternalError"

    def __init__(self, message: str, *, field: str | None = None, type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.type = type or self.default_type

    def body(self) -> dict[str, Any]:
        return error_body(self.type, self.message, self.field)


class BadRequest(ApiError):
    status = 400
    default_type = "BadRequest"


class NotFound(ApiError):
    status = 404
    default_type = "NotFound"


class Unprocessable(ApiError):
    status = 422
    default_type = "ValidationError"


class BusinessRefusal(ApiError):
    status = 409

    def __init__(self, type: ErrorType, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field, type=type.value)


class Unavailable(ApiError):
    status = 503
    default_type = ErrorType.PLATFORM_UNAVAILABLE.value


def error_body(type: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": type, "message": message}
    if field is not None:
        error["field"] = field
    return {"error": error}
