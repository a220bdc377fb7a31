"""Fixtures for the sandbox tests: a store on a tmp dir, a hand-moved clock, a seeded random
generator, a recording sleep, and an HTTP client wired to the app in-process (no sockets)."""

import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from sandbox.app import create_app
from sandbox.store import Store
from tests.sandbox.helpers import Api, FakeClock, Sleeps


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    opened = Store(db_path)
    yield opened
    opened.close()


@pytest.fixture
def app(store: Store, clock: FakeClock, sleeps: Sleeps) -> FastAPI:
    return create_app(store, clock=clock, rng=random.Random(1234), sleep=sleeps)


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield Api(http)
