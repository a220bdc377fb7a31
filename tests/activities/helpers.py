"""Helpers of the activity tests (a module, so tests can import them): a hand-moved clock, the
sandbox app behind a `PlatformClient` over in-process ASGI, and a mock-transport client."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from activities.http import PlatformClient

BASE_URL = "http://platform.test"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def asgi_client(app: Any) -> PlatformClient:
    return PlatformClient(
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
    )


def mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> PlatformClient:
    return PlatformClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url=BASE_URL)
    )


# The sandbox ledger of one order: its entries, or their `system/action` names.
async def effects(platform: PlatformClient, order_id: str = "ORD-1") -> list[str]:
    entries: list[dict[str, Any]] = await platform.get("/v1/sandbox/ledger", {"order_id": order_id})
    return [f"{e['system']}/{e['action']}" for e in entries]


async def ledger(platform: PlatformClient, order_id: str = "ORD-1") -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = await platform.get("/v1/sandbox/ledger", {"order_id": order_id})
    return entries
