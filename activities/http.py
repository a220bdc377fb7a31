"""`PlatformClient`: the one HTTP client of the platform, shared by every activity class.

Wraps an `httpx.AsyncClient` (base URL and timeout from settings, or injected by tests with a
mock or ASGI transport). It adds the `Idempotency-Key` header to every mutating call and turns
error answers into Temporal errors (`activities.contract.error_from_response`). Transport errors
and timeouts are deliberately left as they are: Temporal retries them with backoff, and since
every mutating call is idempotent on its key, a retry after a lost answer applies nothing twice.
"""

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx
from pydantic_core import to_jsonable_python

from activities.contract import IDEMPOTENCY_HEADER, error_from_response, not_json
from service.settings import Settings

USER_AGENT = "upgrade-activation/0.1"


class PlatformClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    @classmethod
    def from_settings(
        cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
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
        response = await self._http.get(path, params=query)
        return self._decode("GET", path, response)

    async def post(self, path: str, body: Mapping[str, Any], idempotency_key: str) -> Any:
        """POST a JSON body under `idempotency_key`; a repeat of the key applies nothing new."""
        if not idempotency_key:
            # A mutating call without a key could apply twice on retry: refuse to send it at all.
            raise ValueError(f"POST {path}: an idempotency key is required")
        response = await self._http.post(
            path,
            json=to_jsonable_python(body),
            headers={IDEMPOTENCY_HEADER: idempotency_key},
        )
        return self._decode("POST", path, response)

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
