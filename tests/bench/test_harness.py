"""The benchmark harness end to end in its tiny mode (`python -m bench --tiny`): real processes,
two upgrades per variant at concurrency 1 and 2, three orders of one account, a few parked.
Checks that every record the reports promise is there with sane values; never a timing."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = {"B2", "B3", "REAL-inproc", "REAL-http"}
FIELDS = ("throughput_per_s", "p50_ms", "p99_ms", "cpu_s_per_upgrade", "events_per_upgrade")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    command = [sys.executable, "-m", "bench", "--tiny", "--docs", str(out / "docs")]
    done = subprocess.run(
        [*command, "--run-dir", str(out / "run")],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (out / "docs" / "benchmarks.md").read_text().startswith("# Benchmarks")
    report: dict[str, Any] = json.loads((out / "docs" / "benchmarks.json").read_text())
    return report


def records(report: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in report["records"] if r["kind"] == kind]


def test_one_record_per_variant_and_concurrency_with_every_field(report: dict[str, Any]) -> None:
    cells = records(report, "throughput")
    assert {(r["variant"], r["concurrency"]) for r in cells} == {
        (v, c) for v in VARIANTS for c in (1, 2)
    }
    for record in cells:
        assert record["repetitions"] == 1
        for field in FIELDS:
            value, low, high = record[field], record[f"{field}_min"], record[f"{field}_max"]
            assert value > 0, (record["variant"], field)
            assert low <= value <= high
        assert record["p50_ms"] <= record["p99_ms"]


def test_b3_has_the_sagas_shape_and_b2_is_smaller(report: dict[str, Any]) -> None:
    cells = {(r["variant"], r["concurrency"]): r for r in records(report, "throughput")}
    for concurrency in (1, 2):
        b2, b3 = cells["B2", concurrency], cells["B3", concurrency]
        real = cells["REAL-inproc", concurrency]
        # The poll runs only when the notice comes after the first task; the two reads of the
        # platform's apply latency (ETA evidence) and the account lease's request are among them:
        # 18 or 19 activities, in the saga and in B3 alike, and two more (a check and its
        # latency read) for each propagation check a busy machine adds: seen at 19.5 in CI.
        assert 18 <= real["activities_per_upgrade"] < 30
        assert 18 <= b3["activities_per_upgrade"] < 30
        assert b2["activities_per_upgrade"] == 1
        assert b2["events_per_upgrade"] < b3["events_per_upgrade"]
    sizes = report["saga_sizes"]
    assert sizes["fanout"] == 8
    assert sizes["activities"]["request_account_lease"]["input_bytes"] > 0
    assert all(size > 0 for size in sizes["lease"].values())
    assert sizes["workflow"]["input_bytes"] > 0 and sizes["query_bytes"] > 0


def test_scale_burst_replay_and_targets_are_reported(report: dict[str, Any]) -> None:
    scale = records(report, "scale")
    assert [s["parked"] for s in scale] == [0, 3, 6]
    assert all(s["worker_rss_bytes"] > 0 and s["db_bytes"] > 0 for s in scale)
    (burst,) = records(report, "burst")
    assert burst["notifications"] == 2 and burst["accepted_per_s"] > 0
    assert burst["all_active_s"] >= burst["send_s"] > 0
    (replay,) = records(report, "replay")
    assert replay["max_cached_workflows"] == 0 and replay["tasks"] > 0
    assert 0 < replay["task_p50_ms"] <= replay["task_p99_ms"] <= replay["task_max_ms"]
    assert len(records(report, "target")) == 5
    assert {r["variant"] for r in records(report, "ratio")} == {"REAL-inproc", "REAL-http"}
    assert report["machine"]["cores"] > 0 and report["machine"]["temporalio"]
    assert report["memory_per_cached_workflow_bytes"] is not None


def test_the_lease_cost_is_reported_for_every_leased_variant(report: dict[str, Any]) -> None:
    cells = {(r["variant"], r["concurrency"]): r for r in records(report, "lease")}
    assert set(cells) == {(v, c) for v in VARIANTS - {"B2"} for c in (1, 2)}
    for record in cells.values():
        assert record["upgrades_sampled"] == 2
        # The request activity and its task, the grant and its task, the release: at least 10.
        assert record["saga_events_per_upgrade"] >= 10
        # Started, the request, the grant sent, the timer, the release: at least 10.
        assert record["entity_events_per_upgrade"] >= 10
        assert 0 < record["wait_p50_ms"] <= record["wait_p99_ms"]


def test_the_same_account_burst_ran_in_payment_order(report: dict[str, Any]) -> None:
    (burst,) = records(report, "same-account")
    # One at a time in request order, activated in grant order: checked by the run itself (a
    # violation fails `python -m bench`).
    assert burst["orders"] == 3 and burst["throughput_per_s"] > 0
    assert 0 < burst["p50_ms"] <= burst["p99_ms"]
    assert 0 < burst["lease_wait_p50_ms"] <= burst["lease_wait_p99_ms"]
    assert burst["entity_events"] == round(burst["entity_events_per_order"] * 3)
    assert burst["entity_runs"] >= 1
    # Measured against the payments' order, not checked: the asks race to the entity.
    assert 0 <= burst["payment_order_inverted_pairs"] <= 3
