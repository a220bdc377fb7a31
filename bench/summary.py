"""From raw runs to the reported figures: records per variant and concurrency, ratios, targets.

Every figure of a variant at a concurrency is the median over the repetitions, with the min and
max beside it. Ratios REAL/B3 divide medians. The targets are those of issue 5, judged on these
medians: REAL-inproc throughput at the highest concurrency >= 0.85 x B3; p50 <= 1.15 x B3 and
worker CPU per upgrade <= 1.3 x B3 at every concurrency; worker RSS at the largest parked level
<= 1.2 x at the smallest; replay p99 task latency well under Temporal's 2 s deadlock limit
(here: under 1 s). The account lease's cost (`lease` records: its events in the saga and in the
account's entity, its wait, per variant and concurrency, pooled over the repetitions) and the
same-account burst (`same-account`) are reported beside them.

Boundary: arithmetic on results; no I/O.
"""

import statistics
from dataclasses import asdict
from typing import Any

from bench.driver import RunSample
from bench.measure import Spread, percentile
from bench.runner import BenchResult
from bench.worker_process import DEFAULT_MAX_CACHED_WORKFLOWS, WORKER_OPTIONS

METRICS = ("throughput_per_s", "p50_ms", "p99_ms", "cpu_s_per_upgrade", "events_per_upgrade")
REPLAY_LIMIT_MS = 1000.0


def throughput_records(samples: list[RunSample]) -> list[dict[str, Any]]:
    cells: dict[tuple[str, int], list[RunSample]] = {}
    for sample in samples:
        cells.setdefault((sample.variant, sample.concurrency), []).append(sample)
    records = []
    for (variant, concurrency), runs in cells.items():
        record: dict[str, Any] = {
            "kind": "throughput",
            "variant": variant,
            "concurrency": concurrency,
            "repetitions": len(runs),
            "upgrades_per_repetition": runs[0].upgrades,
        }
        for metric in METRICS:
            spread = Spread.of(getattr(run, metric) for run in runs)
            record[metric] = spread.median
            record[f"{metric}_min"] = spread.min
            record[f"{metric}_max"] = spread.max
        record["activities_per_upgrade"] = Spread.of(r.activities_per_upgrade for r in runs).median
        latencies = [ms for run in runs for ms in run.task_latencies_ms]
        record["task_p99_ms"] = percentile(latencies, 0.99) if latencies else None
        records.append(record)
    return records


def _cell(records: list[dict[str, Any]], variant: str, concurrency: int) -> dict[str, Any]:
    return next(r for r in records if r["variant"] == variant and r["concurrency"] == concurrency)


def ratios(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for concurrency in sorted({r["concurrency"] for r in records}):
        b3 = _cell(records, "B3", concurrency)
        for variant in ("REAL-inproc", "REAL-http"):
            real = _cell(records, variant, concurrency)
            rows.append(
                {
                    "kind": "ratio",
                    "variant": variant,
                    "concurrency": concurrency,
                    **{f"{m}_vs_b3": real[m] / b3[m] for m in METRICS},
                }
            )
    return rows


def lease_records(
    samples: list[RunSample], throughput: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    cells: dict[tuple[str, int], list[RunSample]] = {}
    for sample in samples:
        if sample.lease.waits_ms:
            cells.setdefault((sample.variant, sample.concurrency), []).append(sample)
    records = []
    for (variant, concurrency), runs in cells.items():
        waits = [ms for run in runs for ms in run.lease.waits_ms]
        upgrade_p50 = _cell(throughput, variant, concurrency)["p50_ms"]
        records.append(
            {
                "kind": "lease",
                "variant": variant,
                "concurrency": concurrency,
                "upgrades_sampled": len(waits),
                "saga_events_per_upgrade": statistics.fmean(
                    n for run in runs for n in run.lease.saga_events
                ),
                "entity_events_per_upgrade": statistics.fmean(
                    n for run in runs for n in run.lease.entity_events
                ),
                "wait_p50_ms": percentile(waits, 0.5),
                "wait_p99_ms": percentile(waits, 0.99),
                "wait_p50_share_of_upgrade_p50": percentile(waits, 0.5) / upgrade_p50,
            }
        )
    return records


def scale_records(result: BenchResult) -> list[dict[str, Any]]:
    records = []
    previous = None
    for level in result.levels:
        record: dict[str, Any] = {"kind": "scale", **asdict(level)}
        if previous is not None:
            added = level.parked - previous.parked
            record["rss_growth_bytes_per_workflow"] = (
                level.worker_rss_bytes - previous.worker_rss_bytes
            ) / added
            record["db_growth_bytes_per_workflow"] = (level.db_bytes - previous.db_bytes) / added
        records.append(record)
        previous = level
    return records


def memory_per_cached_workflow(result: BenchResult) -> float | None:
    """RSS added per workflow while every parked run still fits in the cache (first level)."""
    if len(result.levels) < 2 or result.levels[1].parked > DEFAULT_MAX_CACHED_WORKFLOWS:
        return None
    empty, first = result.levels[0], result.levels[1]
    return (first.worker_rss_bytes - empty.worker_rss_bytes) / first.parked


def replay_record(result: BenchResult) -> dict[str, Any]:
    assert result.replay is not None
    replay = result.replay
    cached = [
        ms for s in result.samples if s.variant == "REAL-inproc" for ms in s.task_latencies_ms
    ]
    return {
        "kind": "replay",
        "variant": "REAL-inproc",
        "max_cached_workflows": 0,
        "concurrency": replay.concurrency,
        "upgrades": replay.upgrades,
        "tasks": len(replay.task_latencies_ms),
        "task_p50_ms": percentile(replay.task_latencies_ms, 0.5),
        "task_p99_ms": percentile(replay.task_latencies_ms, 0.99),
        "task_max_ms": max(replay.task_latencies_ms),
        "cached_task_p99_ms": percentile(cached, 0.99) if cached else None,
        "throughput_per_s": replay.throughput_per_s,
        "cpu_s_per_upgrade": replay.cpu_s_per_upgrade,
        "events_per_upgrade": replay.events_per_upgrade,
    }


def targets(
    records: list[dict[str, Any]], result: BenchResult, replay: dict[str, Any]
) -> list[dict[str, Any]]:
    concurrencies = sorted({r["concurrency"] for r in records})
    top = concurrencies[-1]

    def ratio(metric: str, concurrency: int) -> float:
        value: float = (
            _cell(records, "REAL-inproc", concurrency)[metric]
            / _cell(records, "B3", concurrency)[metric]
        )
        return value

    rows: list[dict[str, Any]] = []

    def add(name: str, measured: str, reached: bool) -> None:
        rows.append({"kind": "target", "target": name, "measured": measured, "reached": reached})

    throughput = ratio("throughput_per_s", top)
    add(
        f"REAL-inproc throughput at c={top} >= 0.85 x B3", f"{throughput:.2f} x", throughput >= 0.85
    )
    p50 = {c: ratio("p50_ms", c) for c in concurrencies}
    add(
        "REAL-inproc p50 <= 1.15 x B3 (every concurrency)",
        ", ".join(f"c={c}: {v:.2f} x" for c, v in p50.items()),
        all(v <= 1.15 for v in p50.values()),
    )
    cpu = {c: ratio("cpu_s_per_upgrade", c) for c in concurrencies}
    add(
        "REAL-inproc worker CPU/upgrade <= 1.3 x B3 (every concurrency)",
        ", ".join(f"c={c}: {v:.2f} x" for c, v in cpu.items()),
        all(v <= 1.3 for v in cpu.values()),
    )
    first, last = result.levels[1], result.levels[-1]
    growth = last.worker_rss_bytes / first.worker_rss_bytes
    add(
        f"worker RSS at {last.parked} parked <= 1.2 x RSS at {first.parked}",
        f"{growth:.2f} x ({last.worker_rss_bytes / 2**20:.0f} / "
        f"{first.worker_rss_bytes / 2**20:.0f} MiB)",
        growth <= 1.2,
    )
    add(
        "replay p99 task latency (cache off) well under 2 s (< 1 s)",
        f"{replay['task_p99_ms']:.0f} ms",
        replay["task_p99_ms"] < REPLAY_LIMIT_MS,
    )
    return rows


def summarize(result: BenchResult, machine: dict[str, Any]) -> dict[str, Any]:
    records = throughput_records(result.samples)
    replay = replay_record(result)
    assert result.burst is not None and result.same_account is not None
    return {
        "mode": result.profile.name,
        "duration_s": result.duration_s,
        "machine": machine,
        "worker_options": {
            **WORKER_OPTIONS,
            "max_cached_workflows": DEFAULT_MAX_CACHED_WORKFLOWS,
            "replay_max_cached_workflows": 0,
        },
        "profile": asdict(result.profile),
        "saga_sizes": result.sizes.model_dump(),
        "records": [
            *records,
            *ratios(records),
            *lease_records(result.samples, records),
            {"kind": "same-account", **asdict(result.same_account)},
            *scale_records(result),
            {"kind": "burst", **asdict(result.burst)},
            replay,
            *targets(records, result, replay),
        ],
        "memory_per_cached_workflow_bytes": memory_per_cached_workflow(result),
    }
