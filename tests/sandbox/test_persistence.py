"""The SQLite store survives a restart: ledger, idempotency records and simulated state."""

import random
import sqlite3
from pathlib import Path

import httpx
import pytest

from sandbox.app import create_app
from sandbox.cli import main
from sandbox.settings import SandboxSettings
from sandbox.store import Store
from tests.sandbox.helpers import Api, FakeClock


async def test_a_restarted_sandbox_keeps_its_ledger_and_keys(db_path: Path) -> None:
    clock = FakeClock()
    body = {"account_id": "acct-1", "app_id": "app-1", "from_plan": "basic", "transaction_id": "t"}

    store = Store(db_path)
    app = create_app(store, clock=clock, rng=random.Random(1))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as h:
        api = Api(h)
        await api.ok("/v1/orders/ORD-1/reconcile", body, key="k1")
        await api.get(
            "/v1/payments/transactions/tx-1", order_id="ORD-1", method="alipay", amount="600.00"
        )
        before = await api.ledger()
    store.close()

    clock.advance(minutes=5)
    store = Store(db_path)
    try:
        app = create_app(store, clock=clock, rng=random.Random(2))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://s") as h:
            api = Api(h)
            assert await api.ledger() == before
            # The key is still known: a retry after the restart replays, no second effect.
            replay = await api.post("/v1/orders/ORD-1/reconcile", body, key="k1")
            assert replay.headers["Idempotent-Replayed"] == "true"
            assert await api.ledger() == before
            # The transaction kept its first-sight time: 5 minutes later it is paid.
            assert (await api.get("/v1/payments/transactions/tx-1"))["status"] == "succeeded"
            # And the account kept its app: a foreign account is still refused.
            foreign = await api.post(
                "/v1/orders/ORD-2/reconcile",
                {**body, "account_id": "acct-2", "transaction_id": "u"},
            )
            assert foreign.status_code == 409
    finally:
        store.close()


async def test_create_app_from_settings_opens_the_store_in_the_data_dir(tmp_path: Path) -> None:
    app = create_app(SandboxSettings(data_dir=tmp_path / "data", time_scale=60))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://s") as h:
        assert (await h.get("/healthz")).json() == {"status": "ok", "time_scale": 60.0}
    assert (tmp_path / "data" / "sandbox.sqlite3").exists()
    app.state.sandbox.store.close()


def test_a_file_of_an_older_sandbox_is_refused_with_what_to_do(db_path: Path) -> None:
    old = sqlite3.connect(db_path)
    old.execute("CREATE TABLE accounts (account_id TEXT PRIMARY KEY, plan TEXT NOT NULL)")
    old.execute("PRAGMA user_version=1")
    old.commit()
    old.close()
    with pytest.raises(RuntimeError, match="older sandbox \\(schema version 1") as refused:
        Store(db_path)
    assert str(db_path) in str(refused.value)
    assert "UPGRADE_DATA_DIR" in str(refused.value)
    # Untouched: still the old file, for whoever wants to look at it.
    check = sqlite3.connect(db_path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == 1
    check.close()


def test_serve_on_an_older_file_exits_1_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old = sqlite3.connect(tmp_path / "sandbox.sqlite3")
    old.execute("CREATE TABLE ledger (seq INTEGER PRIMARY KEY)")
    old.execute("PRAGMA user_version=1")
    old.commit()
    old.close()
    monkeypatch.setenv("UPGRADE_DATA_DIR", str(tmp_path))
    assert main(["serve", "--port", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "older sandbox (schema version 1" in err
    assert "Traceback" not in err
