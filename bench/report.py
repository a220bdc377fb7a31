"""Report writers: the terminal table (rich), `docs/benchmarks.md` and `docs/benchmarks.json`.

All three render the summary built by `bench.summary`; nothing is computed here but formatting.
"""

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.report_lease import LEASE_HEADERS, LEASE_METHOD, lease_rows, same_account_line
from bench.scale import BURST_IN_FLIGHT

METHOD = """\
## Method

- **One dev server** (`temporal server start-dev` with a SQLite database file, our search
  attributes registered: the `make run` command on free ports), **one worker process** serving
  every variant on its own task queue with the same settings (below), the **driver** in a third
  process, the **sandbox** (REAL-http) in a fourth.
- **Variants.** *B2*: one no-op activity. *B3*: a no-op workflow of the saga's exact shape on a
  normal `plan` upgrade (`bench/baselines.py`): the payment poll and its 20 s timer unless the
  notification came first, the 2 h SLA timer started and cancelled, the account lease's request,
  grant and release (a no-op entity workflow per account), three calls, an eight-way
  fan-out, four calls, the saga's eight search-attribute upserts, the `confirm_payment` update and
  `status` query; every payload the size the real saga's has (measured from a real run's history
  at the start of each benchmark, "saga payload sizes" below), through the same pydantic data
  converter. *REAL-inproc*: `UpgradeActivation` itself with instant in-process activities under
  the real names (`bench/instant_platform.py`). *REAL-http*: the saga and its real HTTP
  activities against the sandbox with its simulated delays removed (`bench/sandbox_server.py`).
- **Time scale.** The saga runs on the production policy (time scale 1): every wait is a
  durable timer and the 2 h SLA or 30 min payment deadline cannot fire during a run. The sandbox
  runs with its delays divided by 1e9 rather than `UPGRADE_TIME_SCALE=1e5` (the settings' cap):
  at 1e5 a region still takes 9-14 ms to apply a config, and a propagation check arriving within
  that window would sleep on the saga's 90 s check timer. Transactions carry the sandbox's
  `pay-never` token so the channel stays `pending` and the payment arrives by notification, as in
  REAL-inproc and B3.
- **Each upgrade** is driven the same way: start (the idempotent `start_upgrade`, or the same
  options for B3), the `confirm_payment` update, one `status` query, wait for the result (B2:
  start and result). Latency is from the start call to the result.
- **Runs.** For each repetition and concurrency, the variants run one after another (B2, B3,
  REAL-inproc, REAL-http, B2, ...) so machine noise hits all alike; figures are medians over
  the repetitions with [min-max]. Worker CPU is the worker process's user+system time over the
  run divided by the upgrades; events per upgrade come from a sample of fetched histories.
- **Scale.** A fresh worker process (same settings) holds REAL upgrades paid by corporate
  transfer, parked in `awaiting_payment` (one poll done, the 10 min poll timer pending), at each
  level: worker RSS and the database file + WAL. Memory per cached workflow: RSS added per
  workflow up to the first level (all of them in the workflow cache).
- **Burst**: payment notifications for the first parked upgrades, all sent at once (most of
  them are no longer cached, so each update replays its run first).
- **Replay**: REAL-inproc on a worker with `max_cached_workflows=0` (every task replays the
  history); task latency = WorkflowTaskStarted → WorkflowTaskCompleted in the histories.
"""


def _fmt(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def _spread(record: dict[str, Any], metric: str, scale: float = 1.0, digits: int = 1) -> str:
    median = _fmt(record[metric] * scale, digits)
    low, high = record[f"{metric}_min"] * scale, record[f"{metric}_max"] * scale
    if record["repetitions"] < 2:
        return median
    return f"{median} [{_fmt(low, digits)}-{_fmt(high, digits)}]"


HEADERS = (
    "variant", "c", "upgrades/s", "p50 ms", "p99 ms", "worker CPU ms/upgrade", "events/upgrade",
)  # fmt: skip


def _rows(summary: dict[str, Any]) -> list[list[str]]:
    rows = []
    for r in summary["records"]:
        if r["kind"] != "throughput":
            continue
        rows.append(
            [
                r["variant"], str(r["concurrency"]), _spread(r, "throughput_per_s"),
                _spread(r, "p50_ms", digits=0), _spread(r, "p99_ms", digits=0),
                _spread(r, "cpu_s_per_upgrade", 1000.0), _fmt(r["events_per_upgrade"], 0),
            ]
        )  # fmt: skip
    rows.sort(key=lambda row: (int(row[1]), HEADERS and row[0]))
    return rows


def _kind(summary: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in summary["records"] if r["kind"] == kind]


def print_table(summary: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"upgrade-activation benchmark ({summary['mode']} run)")
    for header in HEADERS:
        table.add_column(header, justify="left" if header == "variant" else "right")
    for row in _rows(summary):
        table.add_row(*row)
    console.print(table)
    targets = Table(title="targets (issue 5)")
    for header in ("target", "measured", "reached"):
        targets.add_column(header)
    for t in _kind(summary, "target"):
        targets.add_row(t["target"], t["measured"], "yes" if t["reached"] else "NO")
    console.print(targets)
    lease = Table(title="account lease (per upgrade)")
    for header in LEASE_HEADERS:
        lease.add_column(header, justify="left" if header == "variant" else "right")
    for row in lease_rows(summary["records"]):
        lease.add_row(*row)
    console.print(lease)
    console.print(same_account_line(summary["records"]))


def _md_table(headers: tuple[str, ...] | list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(summary: dict[str, Any], notes: str = "") -> str:
    machine = summary["machine"]
    mode = summary["mode"]
    parts = ["# Benchmarks: the saga against bare Temporal", ""]
    if mode != "full":
        parts += [
            f"> **{mode} run** ({summary['duration_s'] / 60:.1f} min): few upgrades, one "
            "repetition, on a machine shared with other work. A placeholder for the numbers of "
            "`make bench` (3 repetitions, the full counts, a quiet machine).",
            "",
        ]
    parts += [
        "Generated by `make bench` (`python -m bench`); raw records in "
        "[`benchmarks.json`](benchmarks.json).",
        "",
        "## Machine",
        "",
        f"- {machine['cores']} cores, {machine['cpu_model']}, "
        f"{machine['ram_bytes'] / 2**30:.1f} GiB RAM, {machine['os']}",
        f"- Python {machine['python']}, temporalio {machine['temporalio']}, pydantic "
        f"{machine['pydantic']}, {machine['temporal_cli']}",
        f"- run: {mode}, {summary['duration_s'] / 60:.1f} min",
        "",
        METHOD,
        "Worker settings (every variant, every phase; the replay phase sets the cache to 0): "
        + ", ".join(f"`{k}={v}`" for k, v in summary["worker_options"].items())
        + "; the saga's sandbox pass-through modules (`service/worker_setup.py`).",
        "",
        "## Throughput, latency, cost",
        "",
        "Median over repetitions [min-max]; c = concurrent upgrades.",
        "",
        _md_table(HEADERS, _rows(summary)),
        "",
        "## REAL / B3",
        "",
    ]
    ratio_rows = [
        [
            r["variant"],
            str(r["concurrency"]),
            f"{r['throughput_per_s_vs_b3']:.2f}",
            f"{r['p50_ms_vs_b3']:.2f}",
            f"{r['p99_ms_vs_b3']:.2f}",
            f"{r['cpu_s_per_upgrade_vs_b3']:.2f}",
            f"{r['events_per_upgrade_vs_b3']:.2f}",
        ]
        for r in _kind(summary, "ratio")
    ]
    parts += [
        _md_table(["variant", "c", "throughput", "p50", "p99", "worker CPU", "events"], ratio_rows),
        "",
        "## Targets (issue 5)",
        "",
        _md_table(
            ["target", "measured", "reached"],
            [
                [t["target"], t["measured"], "yes" if t["reached"] else "**no**"]
                for t in _kind(summary, "target")
            ],
        ),
        "",
        "## Account lease",
        "",
        LEASE_METHOD,
        "",
        _md_table(LEASE_HEADERS, lease_rows(summary["records"])),
        "",
        "### Same-account burst",
        "",
        same_account_line(summary["records"]),
        "",
        "## Scale: upgrades parked in awaiting_payment",
        "",
    ]
    scale_rows = [
        [
            f"{s['parked']:,}",
            f"{s['worker_rss_bytes'] / 2**20:.0f}",
            f"{s['db_bytes'] / 2**20:.1f}",
            _fmt(s["rss_growth_bytes_per_workflow"] / 1024, 1)
            if "rss_growth_bytes_per_workflow" in s
            else "",
            _fmt(s["db_growth_bytes_per_workflow"] / 1024, 1)
            if "db_growth_bytes_per_workflow" in s
            else "",
        ]
        for s in _kind(summary, "scale")
    ]
    per_cached = summary["memory_per_cached_workflow_bytes"]
    burst = _kind(summary, "burst")[0]
    replay = _kind(summary, "replay")[0]
    parts += [
        _md_table(
            ["parked", "worker RSS MiB", "db + WAL MiB", "RSS KiB/workflow", "db KiB/workflow"],
            scale_rows,
        ),
        "",
        "Growth per workflow is from the previous level. Memory per cached workflow: "
        + (f"{per_cached / 1024:.1f} KiB" if per_cached is not None else "n/a")
        + f" (the cache holds {summary['worker_options']['max_cached_workflows']:,} runs; "
        "beyond that, parked runs live only in the server's database and are replayed when "
        "their timer or a message arrives).",
        "",
        "## Burst of payment notifications",
        "",
        f"{burst['notifications']:,} `confirm_payment` updates sent as fast as one client can "
        f"(at most {BURST_IN_FLIGHT} in flight) to parked upgrades: all answered in "
        f"{burst['send_s']:.1f} s (**{burst['accepted_per_s']:.0f} accepted/s**, "
        f"{burst.get('resent', 0)} re-sent after a failed call); "
        f"all {burst['notifications']:,} upgrades `active` {burst['all_active_s']:.1f} s after "
        "the first was sent.",
        "",
        "## Replay cost (workflow cache off)",
        "",
        f"{replay['upgrades']} REAL-inproc upgrades at c={replay['concurrency']} on a worker with "
        f"`max_cached_workflows=0`: {replay['tasks']} workflow tasks, p50 "
        f"{replay['task_p50_ms']:.0f} ms, **p99 {replay['task_p99_ms']:.0f} ms**, max "
        f"{replay['task_max_ms']:.0f} ms (Temporal's deadlock detector fires at 2 s of workflow "
        "code without yielding). With the cache on, the same tasks' p99: "
        + (
            f"{replay['cached_task_p99_ms']:.0f} ms."
            if replay["cached_task_p99_ms"] is not None
            else "n/a."
        ),
        f" Throughput with the cache off: {replay['throughput_per_s']:.1f} upgrades/s, worker "
        f"CPU {replay['cpu_s_per_upgrade'] * 1000:.0f} ms/upgrade.",
        "",
        "## Saga payload sizes (bytes, measured from a real history; B3 reproduces them)",
        "",
        _saga_sizes(summary["saga_sizes"]),
        "",
    ]
    if notes:
        parts += ["## Notes", "", notes.strip(), ""]
    return "\n".join(parts)


def _saga_sizes(sizes: dict[str, Any]) -> str:
    rows = [
        ["workflow input / result", str(sizes["workflow"]["input_bytes"]),
         str(sizes["workflow"]["result_bytes"])],
        ["confirm_payment update", str(sizes["update"]["input_bytes"]),
         str(sizes["update"]["result_bytes"])],
        ["status query", "", str(sizes["query_bytes"])],
    ]  # fmt: skip
    for name, exchange in sizes["activities"].items():
        rows.append([name, str(exchange["input_bytes"]), str(exchange["result_bytes"])])
    lease = sizes["lease"]
    rows += [
        ["account entity: input / `request` signal", str(lease["entity_input_bytes"]),
         str(lease["request_bytes"])],
        ["`lease_granted` / `release` signals", str(lease["grant_bytes"]),
         str(lease["release_bytes"])],
    ]  # fmt: skip
    table = _md_table(["payload", "in", "out"], rows)
    return f"{table}\n\n`workflow.patched` markers at the run's start: {sizes['patches']}."


def write_reports(summary: dict[str, Any], docs: Path, notes: str = "") -> tuple[Path, Path]:
    docs.mkdir(parents=True, exist_ok=True)
    md, js = docs / "benchmarks.md", docs / "benchmarks.json"
    md.write_text(markdown(summary, notes), "utf-8")
    js.write_text(json.dumps(summary, indent=2, default=str) + "\n", "utf-8")
    return md, js
