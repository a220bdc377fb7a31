"""Every error answer of the sandbox in the contract's one shape (`sandbox.errors.error_body`):
our `ApiError`s, FastAPI's validation errors (naming the field, not the request part) and
Starlette's 404/405 for paths outside the contract."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.errors import ApiError, error_body


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems: list[str] = []
    first_field: str | None = None
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            problems.append(f"the body is not valid JSON: {error.get('ctx', {}).get('error', '')}")
            continue
        # loc is ("body" | "query" | "path" | "header", name, ...): name the field, not the part.
        field = ".".join(str(part) for part in error.get("loc", ())[1:]) or None
        first_field = first_field or field
        problems.append(f"{field}: {error.get('msg')}" if field else str(error.get("msg")))
    return JSONResponse(
        error_body("ValidationError", "; ".join(problems), first_field), status_code=422
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
    message = str(exc.detail)
    if exc.status_code in (404, 405):
        message = f"{message}: {request.method} {request.url.path} is not part of the contract"
    return JSONResponse(error_body(kind, message), status_code=exc.status_code, headers=exc.headers)


def install_error_answers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
