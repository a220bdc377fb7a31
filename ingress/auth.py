"""Bearer tokens for the backend's and the operators' endpoints (`Authorization: Bearer <token>`).

Two roles: the backend (start, status, cancel) and operators (all of those, plus `resolve`). An
operator token therefore opens every endpoint and the backend token all but `resolve`: a backend
script can never approve a reconciliation mismatch. A role whose token is not configured is
closed: with no token set, its endpoints answer 503 "not configured", never open.

Payment channels do not use tokens: their notifications are authenticated by signature
(`ingress.signature`). Comparisons are constant-time.
"""

import hmac
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from ingress.problems import Kind, ProblemError
from ingress.settings import BACKEND_TOKEN_ENV, OPERATOR_TOKEN_ENV, IngressSettings


class Role(StrEnum):
    BACKEND = "backend"
    OPERATOR = "operator"


_bearer = HTTPBearer(
    auto_error=False,
    description=(
        "`UPGRADE_OPERATOR_TOKEN` (every endpoint) or `UPGRADE_BACKEND_TOKEN` (all but resolve). "
        "`make run` uses the development values `dev-operator-token` / `dev-backend-token`."
    ),
)


def _tokens_for(settings: IngressSettings, role: Role) -> list[SecretStr]:
    accepted = [settings.operator_token]
    if role is Role.BACKEND:
        accepted.append(settings.backend_token)
    return [token for token in accepted if token is not None]


def _matches(given: str, tokens: list[SecretStr]) -> bool:
    given_bytes = given.encode("utf-8", "surrogateescape")
    # Check every token (no early exit), so the time taken does not say which one was close.
    hits = [hmac.compare_digest(given_bytes, t.get_secret_value().encode()) for t in tokens]
    return any(hits)


def check_token(settings: IngressSettings, role: Role, given: str | None) -> None:
    tokens = _tokens_for(settings, role)
    if not tokens:
        needed = (
            OPERATOR_TOKEN_ENV
            if role is Role.OPERATOR
            else (f"{OPERATOR_TOKEN_ENV} or {BACKEND_TOKEN_ENV}")
        )
        raise ProblemError(
            503, Kind.NOT_CONFIGURED, f"{needed} is not set on the server: this endpoint is closed"
        )
    if given is None or not _matches(given, tokens):
        what = "operator" if role is Role.OPERATOR else "backend or operator"
        raise ProblemError(
            401,
            Kind.UNAUTHORIZED,
            f"a valid {what} bearer token is required (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": 'Bearer realm="upgrade-activation"'},
        )


def require(role: Role) -> Any:
    """A FastAPI dependency that lets the request through only with a token of `role`."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        settings: IngressSettings = request.app.state.settings
        check_token(settings, role, credentials.credentials if credentials else None)

    return Depends(dependency)
