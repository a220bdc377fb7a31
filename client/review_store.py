"""The durable record of money events no run decides: statement lines and channel notices for a person.

One SQLite file, `$UPGRADE_DATA_DIR/payments-review.sqlite`, shared by `starter.py
import-statement` and the ingress (which run with the same data directory):

- `statement_lines`: every imported bank statement line, keyed by its `bank_reference` (the
  bank's unique id of the line). The key makes re-importing a file change nothing. Lines that
  confirmed an order are kept as `matched`; the rest (`unmatched`, `ambiguous`, `wrong_amount`,
  `duplicate`, or `undelivered` when the run refused the confirmation) wait for a person.
- `channel_notices`: verified Alipay / WeChat Pay notices that the run does not take: refunds
  (recognised, recorded, never read as a failed payment) and notices whose amount differs from
  the order's (refused to the channel, kept here so the money is not forgotten). Keyed by the
  channel's notice id and kind: the channel's re-sends are one record.

Why SQLite rather than a workflow: the bank reference must be a unique key checked in the same
transaction that records the line, the list must be readable without a worker, and the records
are few and small. Writes are committed before the caller answers anyone (`synchronous=FULL`).

Boundary: storage only; the matching is `channels.matching`, the import `client.statement_import`.
"""

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from channels.matching import LineOutcome
from channels.notices import ChannelNotice

REVIEW_FILENAME = "payments-review.sqlite"
MATCHED = "matched"
UNDELIVERED = "undelivered"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS statement_lines (
    bank_reference TEXT PRIMARY KEY,
    imported_at TEXT NOT NULL,
    source TEXT NOT NULL,
    line_number INTEGER NOT NULL,
    booking_date TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    payer_name TEXT NOT NULL,
    memo TEXT NOT NULL,
    outcome TEXT NOT NULL,
    order_id TEXT,
    candidates TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS channel_notices (
    channel TEXT NOT NULL,
    notice_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    received_at TEXT NOT NULL,
    out_trade_no TEXT NOT NULL,
    trade_no TEXT NOT NULL,
    channel_status TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    refund_amount TEXT,
    refund_id TEXT,
    order_id TEXT,
    reason TEXT NOT NULL,
    PRIMARY KEY (channel, notice_id, kind)
);
"""


class ReviewLine(BaseModel):
    """A stored statement line and what became of it."""

    model_config = ConfigDict(frozen=True)
    bank_reference: str
    imported_at: datetime
    source: str
    line_number: int
    booking_date: str
    amount: str
    currency: str
    payer_name: str
    memo: str
    outcome: str
    order_id: str | None
    candidates: list[str]
    reason: str


class NoticeRecord(BaseModel):
    """A stored channel notice that no run took (a refund, a mismatched amount)."""

    model_config = ConfigDict(frozen=True)
    channel: str
    notice_id: str
    kind: str
    received_at: datetime
    out_trade_no: str
    trade_no: str
    channel_status: str
    amount: str
    currency: str
    refund_amount: str | None
    refund_id: str | None
    order_id: str | None
    reason: str


class ReviewStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def in_dir(cls, data_dir: Path) -> "ReviewStore":
        return cls(data_dir / REVIEW_FILENAME)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.executescript(_SCHEMA)
            yield connection
        finally:
            connection.close()

    def seen_references(self, references: list[str]) -> set[str]:
        """The bank references among `references` that an earlier import recorded."""
        seen: set[str] = set()
        with self._connect() as db:
            for start in range(0, len(references), 500):
                chunk = references[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT bank_reference FROM statement_lines WHERE bank_reference IN ({marks})",
                    chunk,
                ).fetchall()
                seen.update(row[0] for row in rows)
        return seen

    def record_line(
        self, outcome: LineOutcome, source: str, *, kind: str | None = None, reason: str = ""
    ) -> bool:
        """Record one line's outcome (once: False if its bank reference was already recorded)."""
        line = outcome.line
        with self._connect() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO statement_lines VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    line.bank_reference,
                    datetime.now(UTC).isoformat(),
                    source,
                    line.line_number,
                    line.booking_date.isoformat(),
                    f"{line.amount:.2f}",
                    line.currency,
                    line.payer_name,
                    line.memo,
                    kind or outcome.kind.value,
                    outcome.order_id,
                    json.dumps(list(outcome.candidates)),
                    reason or outcome.reason,
                ),
            )
            return cursor.rowcount == 1

    def lines(self, *, for_review_only: bool = False) -> list[ReviewLine]:
        where = f"WHERE outcome != '{MATCHED}'" if for_review_only else ""
        with self._connect() as db:
            rows = db.execute(
                f"SELECT * FROM statement_lines {where} ORDER BY imported_at, line_number"
            ).fetchall()
        return [
            ReviewLine.model_validate(dict(row) | {"candidates": json.loads(row["candidates"])})
            for row in rows
        ]

    def record_notice(self, notice: ChannelNotice, order_id: str | None, reason: str) -> bool:
        """Record a notice once per (channel, notice id, kind); False for a re-send."""
        with self._connect() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO channel_notices VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    notice.channel.value,
                    notice.notice_id,
                    notice.kind.value,
                    datetime.now(UTC).isoformat(),
                    notice.out_trade_no,
                    notice.trade_no,
                    notice.channel_status,
                    f"{notice.amount:.2f}",
                    notice.currency,
                    None if notice.refund_amount is None else f"{notice.refund_amount:.2f}",
                    notice.refund_id,
                    order_id,
                    reason,
                ),
            )
            return cursor.rowcount == 1

    def notices(self) -> list[NoticeRecord]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM channel_notices ORDER BY received_at").fetchall()
        return [NoticeRecord.model_validate(dict(row)) for row in rows]
