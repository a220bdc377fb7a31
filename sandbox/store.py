"""The sandbox's persistence: one SQLite file (WAL) holding the simulated systems' state, the
idempotency records and the effect ledger, so all of it survives a restart and can be audited.

Boundary: connection handling, transactions, the idempotency rule and the ledger; the tables are
`sandbox.tables`, and what each simulated system does with them lives in `sandbox.systems`.

Concurrency: one connection guarded by a lock; every unit of work runs in a worker thread inside
one `BEGIN IMMEDIATE` transaction, so the event loop never blocks on disk and "look up the key,
apply the effect, record it in the ledger, store the response" is atomic: a crash in between
leaves no half-applied call behind.
"""

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sandbox.errors import Unprocessable
from sandbox.tables import MIGRATIONS, SCHEMA, SCHEMA_VERSION

T = TypeVar("T")

DB_FILENAME = "sandbox.sqlite3"


def to_iso(moment: datetime) -> str:
    return moment.isoformat()


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Tx:
    """One open transaction: thin helpers over the connection, plus the ledger writer."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def one(self, sql: str, *params: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
        return row

    def scalar(self, sql: str, *params: Any) -> int:
        """The first column of the first row of an aggregate query (COUNT, COALESCE(MAX...))."""
        row = self._conn.execute(sql, params).fetchone()
        if row is None or row[0] is None:
            raise LookupError(f"no scalar value from {sql!r}")
        return int(row[0])

    def all(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        return list(self._conn.execute(sql, params).fetchall())

    def execute(self, sql: str, *params: Any) -> sqlite3.Cursor:
        return self._conn.execute(sql, params)

    def insert(self, table: str, row: dict[str, Any], *, replace: bool = False) -> None:
        """Insert one row; `table` and the column names come from our code, never from input."""
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        self._conn.execute(f"{verb} INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))

    def record_effect(
        self,
        *,
        system: str,
        action: str,
        order_id: str,
        key: str,
        at: datetime,
        detail: dict[str, Any],
    ) -> None:
        self._conn.execute(
            "INSERT INTO ledger (system, action, order_id, key, at, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (system, action, order_id, key, to_iso(at), json.dumps(detail, sort_keys=True)),
        )

    def ledger(self, order_id: str | None = None) -> list[dict[str, Any]]:
        if order_id is None:
            rows = self.all("SELECT * FROM ledger ORDER BY seq")
        else:
            rows = self.all("SELECT * FROM ledger WHERE order_id = ? ORDER BY seq", order_id)
        return [
            {
                "seq": row["seq"],
                "system": row["system"],
                "action": row["action"],
                "order_id": row["order_id"],
                "key": row["key"],
                "at": row["at"],
                "detail": json.loads(row["detail"]),
            }
            for row in rows
        ]


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]
    replayed: bool


def replay_or_apply(
    tx: Tx,
    *,
    key: str,
    fingerprint: str,
    now: datetime,
    apply: Callable[[], dict[str, Any]],
) -> StoredResponse:
    """The idempotency rule: a known key answers its stored response and applies nothing.

    Only successes are stored. A refusal raises out of `apply`, the transaction rolls back, and
    the same key may be retried later (e.g. after an operator fixed the data) and evaluated anew.
    """
    row = tx.one("SELECT fingerprint, status, body FROM idempotency WHERE key = ?", key)
    if row is not None:
        if row["fingerprint"] != fingerprint:
            raise Unprocessable(
                f"Idempotency-Key {key!r} was already used for {row['fingerprint']}",
                field="Idempotency-Key",
                type="IdempotencyKeyReused",
            )
        return StoredResponse(row["status"], json.loads(row["body"]), replayed=True)
    body = apply()
    tx.execute(
        "INSERT INTO idempotency (key, fingerprint, status, body, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        key,
        fingerprint,
        200,
        json.dumps(body),
        to_iso(now),
    )
    return StoredResponse(200, body, replayed=False)


class Store:
    """The sandbox database. Open once per process; close on shutdown."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are explicit (`BEGIN IMMEDIATE` in `_run`), never implicit.
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self._closed = False
        self._initialise()

    @classmethod
    def in_dir(cls, data_dir: Path) -> "Store":
        return cls(data_dir / DB_FILENAME)

    def _initialise(self) -> None:
        conn = self._conn
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across process crashes in WAL mode; only an OS crash may lose the
        # last transactions, acceptable for a simulator.
        conn.execute("PRAGMA synchronous=NORMAL")
        # A second process on the same file (e.g. a CLI) waits instead of failing at once.
        conn.execute("PRAGMA busy_timeout=5000")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path} has schema version {version}, newer than this sandbox "
                f"({SCHEMA_VERSION}); use a newer sandbox or another data dir"
            )
        conn.executescript(SCHEMA)
        # A new file (version 0) got the current tables above; an older one is migrated.
        if 0 < version < SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    conn.execute(statement)
            conn.execute("COMMIT")
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def run_sync(self, work: Callable[[Tx], T]) -> T:
        with self._lock:
            if self._closed:
                raise RuntimeError("the sandbox store is closed")
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(Tx(self._conn))
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return result

    async def run(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in one transaction, in a worker thread (SQLite calls block)."""
        return await asyncio.to_thread(self.run_sync, work)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()
