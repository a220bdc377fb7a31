"""Fixtures for the activity tests: the real sandbox app (tmp SQLite, hand-moved clock) behind
the real `PlatformClient`, and a Temporal `ActivityEnvironment` to run activities in context."""

import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from temporalio.testing import ActivityEnvironment

from activities.http import PlatformClient
from sandbox.app import create_app
from sandbox.store import Store
from tests.activities.helpers import FakeClock, asgi_client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "sandbox.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def sandbox_app(store: Store, clock: FakeClock) -> FastAPI:
    return create_app(store, clock=clock, rng=random.Random(99))


@pytest.fixture
async def platform(sandbox_app: FastAPI) -> AsyncIterator[PlatformClient]:
    async with asgi_client(sandbox_app) as client:
        yield client


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()
