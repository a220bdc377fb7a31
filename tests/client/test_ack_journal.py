"""The acknowledgement journal: concurrent appenders never interleave lines; a torn line is
skipped and counted, not fatal."""

import subprocess
import sys
import textwrap
from pathlib import Path

from client.ack_journal import AckJournal, read_acks

WRITERS = 6
RECORDS_EACH = 150

_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from client.ack_journal import AckJournal
    journal = AckJournal(Path(sys.argv[1]))
    for n in range(int(sys.argv[3])):
        journal.record("notice", f"ORD-{sys.argv[2]}-{n}", "upgrade-x", "accepted",
                       detail="x" * 900)
    """
)


def test_concurrent_processes_append_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "acks.jsonl"
    root = Path(__file__).resolve().parents[2]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(w), str(RECORDS_EACH)], cwd=root
        )
        for w in range(WRITERS)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0] * WRITERS
    records, torn = read_acks(path)
    assert torn == 0
    assert len(records) == WRITERS * RECORDS_EACH
    assert len({r.order_id for r in records}) == WRITERS * RECORDS_EACH


def test_a_torn_last_line_is_skipped_and_counted(tmp_path: Path) -> None:
    journal = AckJournal.in_dir(tmp_path)
    journal.record("start", "ORD-1", "upgrade-ORD-1", "created", run_id="r1")
    with journal.path.open("a") as f:
        f.write('{"at": "2026-01-01T00:00:00Z", "kind": "sta')
    records, torn = read_acks(journal.path)
    assert [r.order_id for r in records] == ["ORD-1"] and torn == 1


def test_a_missing_journal_is_empty(tmp_path: Path) -> None:
    assert read_acks(tmp_path / "nope.jsonl") == ([], 0)
