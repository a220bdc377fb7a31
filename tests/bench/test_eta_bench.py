"""`python -m bench eta --tiny` on real processes (a few upgrades per condition, seconds): every
`eta-*` record with its fields, merged into existing reports without touching other records or
sections (read-modify-write: the main bench writes those)."""

import json
import subprocess
import sys
from pathlib import Path

from bench.eta import CONDITIONS, MOMENTS

OTHER = {"kind": "throughput", "variant": "B2", "concurrency": 1}
MD = "# Benchmarks\n\n## Throughput\n\nkept as is\n\n## Notes\n\nlast\n"


def test_tiny_eta_bench_merges_its_records_and_section(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "benchmarks.json").write_text(json.dumps({"mode": "full", "records": [OTHER]}))
    (docs / "benchmarks.md").write_text(MD)
    command = [sys.executable, "-m", "bench", "eta", "--tiny", "--docs", str(docs)]
    run = subprocess.run(
        [*command, "--run-dir", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    data = json.loads((docs / "benchmarks.json").read_text())
    assert data["mode"] == "full" and data["records"][0] == OTHER
    eta = {r["variant"]: r for r in data["records"] if r["variant"].startswith("eta-")}
    expected = {
        f"eta-{c}-{m}{suffix}" for c in CONDITIONS for m in MOMENTS for suffix in ("", "-static")
    }
    assert set(eta) == expected
    for record in eta.values():
        assert record["upgrades"] == 4 and record["failed"] == 0
        assert 0.0 <= record["coverage"] <= 1.0
        assert record["median_width_s"] >= 0
    text = (docs / "benchmarks.md").read_text()
    assert "kept as is" in text and text.rstrip().endswith("last")
    assert text.index("## ETA calibration (issue 14)") < text.index("## Notes")
    assert "`eta-load-propagation-static`" in text
