"""The client-side acknowledgement journal: one JSON line per answer a client was given.

Role: remember what callers were told (a start reported a run; a payment notice, a cancel or a
decision was acknowledged; a payment was held by its custody), so that `starter.py audit` can
hold Temporal and the platform to it.
`client.upgrades` appends here when a caller passes a journal; the CLI always does, into
`$UPGRADE_DATA_DIR/acks.jsonl`.

Concurrency: many short CLI processes (and the ingress) append to the same file at once. Each
record is written by a single `write(2)` on a descriptor opened with `O_APPEND`, so the kernel
places every line at the current end of file and lines never interleave; no lock is needed.
A process killed mid-write can at worst leave one torn last line, which the reader skips and counts.

Boundary: append and read; no judgement (that is `audit.checks`).
"""

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

JOURNAL_FILENAME = "acks.jsonl"

# `held`: a payment handed to its custody (`workflow_id` is the custody's), see `client.custody`.
AckKind = Literal["start", "notice", "cancel", "resolve", "held"]


class AckRecord(BaseModel):
    """One acknowledgement. `result` is `created`/`existing` for a start, else the update's
    `accepted`/`duplicate`; `stage` is the stage the run reported in its answer."""

    model_config = ConfigDict(frozen=True)
    at: datetime
    kind: AckKind
    order_id: str
    workflow_id: str
    run_id: str = ""
    result: str
    stage: str | None = None
    detail: str = ""


class AckJournal:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def in_dir(cls, data_dir: Path) -> "AckJournal":
        return cls(data_dir / JOURNAL_FILENAME)

    def append(self, record: AckRecord) -> None:
        line = (record.model_dump_json() + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            # One write call per record: with O_APPEND the line lands whole at the end of file.
            os.write(fd, line)
        finally:
            os.close(fd)

    def record(
        self,
        kind: AckKind,
        order_id: str,
        workflow_id: str,
        result: str,
        *,
        run_id: str = "",
        stage: str | None = None,
        detail: str = "",
    ) -> None:
        self.append(
            AckRecord(
                at=datetime.now(UTC),
                kind=kind,
                order_id=order_id,
                workflow_id=workflow_id,
                run_id=run_id,
                result=result,
                stage=stage,
                detail=detail,
            )
        )


def read_acks(path: Path) -> tuple[list[AckRecord], int]:
    """The journal's records in file order, and how many unreadable (torn) lines were skipped.
    A missing file is an empty journal."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return [], 0
    records: list[AckRecord] = []
    skipped = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            records.append(AckRecord.model_validate_json(line))
        except ValidationError:
            skipped += 1
    return records, skipped
