"""The SQLite store survives a restart: ledger, idempotency records and simulated state."""

import random
import sqlite3
from pathlib import Path

import httpx

from sandbox.app import create_app
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


def test_a_version_1_file_is_migrated_keeping_its_refund(db_path: Path) -> None:
    old = sqlite3.connect(db_path)
    old.executescript(
        """
        CREATE TABLE transactions (transaction_id TEXT PRIMARY KEY, order_id TEXT NOT NULL,
            method TEXT NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL,
            created_at TEXT NOT NULL, approved_at TEXT);
        CREATE TABLE claims (transaction_id TEXT PRIMARY KEY, order_id TEXT NOT NULL,
            claimed_at TEXT NOT NULL);
        CREATE TABLE refunds (transaction_id TEXT PRIMARY KEY, refund_id TEXT NOT NULL,
            order_id TEXT NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL,
            reason TEXT NOT NULL, refunded_at TEXT NOT NULL);
        INSERT INTO refunds VALUES ('tx-1', 'rf-1', 'ORD-1', '600.00', 'CNY', 'cancelled', 'x');
        PRAGMA user_version=1;
        """
    )
    old.close()
    store = Store(db_path)
    try:
        rows = store.run_sync(lambda tx: tx.all("SELECT * FROM payment_refunds"))
        assert [(r["refund_id"], r["transaction_id"], r["amount"]) for r in rows] == [
            ("rf-1", "tx-1", "600.00")
        ]
        columns = store.run_sync(lambda tx: tx.all("PRAGMA table_info(transactions)"))
        assert "settled_at" in {c["name"] for c in columns}
    finally:
        store.close()
