"""`PlatformClient`: the one HTTP client of the platform, shared by every activity class.

Wraps an `httpx.AsyncClient` (base URL and timeout from settings, or injected by tests with a
mock or ASGI transport). It adds the `Idempotency-Key` header to every mutating call and turns
error answers into Temporal errors (`activities.contract.error_from_response`). Transport errors
and timeouts are deliberately left as they are: Temporal retries them with backoff, and since
every mutating call is idempotent on its key, a retry after a lost answer applies nothing twice.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Protocol

import httpx
from pydantic_core import to_jsonable_python

from activities.contract import IDEMPOTENCY_HEADER, error_from_response, not_json

USER_AGENT = "upgrade-activation/0.1"
# Attempts per call before a momentary failure surfaces to Temporal, and the first back-off.
QUICK_RETRIES = 4
QUICK_RETRY_BASE_S = 0.02


class PlatformSettings(Protocol):
    """What the client needs of the process's settings (`service.settings.Settings` has it);
    a protocol, so that activities depend on no layer above them."""

    @property
    def platform_url(self) -> str: ...

    @property
    def http_timeout_s(self) -> float: ...


class PlatformClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    @classmethod
    def from_settings(
        cls, settings: PlatformSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> "PlatformClient":
        return cls(
            httpx.AsyncClient(
                base_url=settings.platform_url,
                timeout=settings.http_timeout_s,
                transport=transport,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            )
        )

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET `path`; `None` values are left out of the query string."""
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        response = await self._send(lambda: self._http.get(path, params=query))
        return self._decode("GET", path, response)

    async def post(self, path: str, body: Mapping[str, Any], idempotency_key: str) -> Any:
        """POST a JSON body under `idempotency_key`; a repeat of the key applies nothing new."""
        if not idempotency_key:
            # A mutating call without a key could apply twice on retry: refuse to send it at all.
            raise ValueError(f"POST {path}: an idempotency key is required")
        payload = to_jsonable_python(body)
        response = await self._send(
            lambda: self._http.post(
                path, json=payload, headers={IDEMPOTENCY_HEADER: idempotency_key}
            )
        )
        return self._decode("POST", path, response)

    async def _send(self, request: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        """A few quick in-process retries of a momentary failure (5xx, 429, connection error)
        before it becomes the activity's failure: safe, as GETs read and POSTs carry their key.

        Temporal's activity retries remain the outer layer for longer outages; these absorb a
        blip in milliseconds instead of a retry timer (at a high time scale, a second of retry
        backoff is an hour of policy time).
        """
        for attempt in range(QUICK_RETRIES):
            last = attempt == QUICK_RETRIES - 1
            try:
                response = await request()
            except httpx.TransportError:
                if last:
                    raise
            else:
                if (response.status_code < 500 and response.status_code != 429) or last:
                    return response
            await asyncio.sleep(QUICK_RETRY_BASE_S * 2**attempt)
        raise AssertionError("unreachable")

    @staticmethod
    def _decode(method: str, path: str, response: httpx.Response) -> Any:
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        if response.is_success:
            if payload is None:
                # A 2xx that is not JSON (a proxy page?) breaks the contract; retrying won't help.
                raise not_json(method, path, response.status_code)
            return payload
        raise error_from_response(
            method, path, response.status_code, payload, response.headers.get("Retry-After")
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "PlatformClient":
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
