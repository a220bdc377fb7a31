"""Test helpers of the sandbox tests (a module, not the conftest, so tests can import them):
a hand-moved clock, a recording sleep, and `Api`, the sandbox over in-process HTTP."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Sleeps:
    calls: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@dataclass
class Api:
    """The sandbox over HTTP, with helpers that keep the tests about behaviour."""

    http: httpx.AsyncClient

    async def post(self, path: str, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        return await self.http.post(
            path, json=body, headers={"Idempotency-Key": key or f"test-{uuid.uuid4()}"}
        )

    async def ok(self, path: str, body: dict[str, Any], key: str | None = None) -> Any:
        response = await self.post(path, body, key)
        assert response.status_code == 200, response.text
        return response.json()

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def ledger(self, order_id: str | None = None) -> list[dict[str, Any]]:
        params = {"order_id": order_id} if order_id else {}
        entries: list[dict[str, Any]] = await self.get("/v1/sandbox/ledger", **params)
        return entries

    async def effects(self, order_id: str | None = None) -> list[str]:
        return [f"{e['system']}/{e['action']}" for e in await self.ledger(order_id)]


def reconcile_body(**overrides: str) -> dict[str, str]:
    body = {
        "account_id": "acct-1",
        "app_id": "app-1",
        "from_plan": "basic",
        "transaction_id": "tx-1",
    }
    return {**body, **overrides}


def billing_body(order_id: str = "ORD-1", **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "order_id": order_id,
        "app_id": "app-1",
        "from_plan": "basic",
        "to_plan": "premium",
        "features": [],
    }
    return {**body, **overrides}
