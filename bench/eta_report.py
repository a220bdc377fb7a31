"""The ETA calibration's records and report: `eta-*` records merged into `docs/benchmarks.json`
and one section of `docs/benchmarks.md`, read-modify-write (every other record and section is
left as it is: the main bench writes those), and the terminal table.

Boundary: formatting and merging only; the measuring is `bench.eta`.
"""

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.eta import CONDITIONS, MOMENTS, EtaResult, measure

HEADING = "## ETA calibration (issue 14)"
TARGET_COVERAGE = 0.95


def records(result: EtaResult) -> list[dict[str, Any]]:
    """One record per condition, moment and ETA (the run's, and the static policy baseline)."""
    scale = result.profile.time_scale
    out: list[dict[str, Any]] = []
    for condition in CONDITIONS:
        samples = result.samples.get(condition, [])
        for moment in MOMENTS:
            for static in (False, True):
                given = f"{moment}-static" if static else moment
                out.append(
                    {
                        "kind": "eta",
                        "variant": f"eta-{condition}-{given}",
                        "condition": condition,
                        "moment": moment,
                        "baseline": static,
                        **measure(samples, given, scale),
                        "failed": len(result.failed.get(condition, [])),
                        "time_scale": scale,
                        "mode": result.profile.name,
                    }
                )
    return out


def _rounds(rounds: int) -> str:
    return "a batch of " if rounds == 1 else f"{rounds} rounds of "


def _verdicts(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    by_variant = {r["variant"]: r for r in rows}
    for condition in CONDITIONS:
        for moment in MOMENTS:
            ours = by_variant[f"eta-{condition}-{moment}"]
            static = by_variant[f"eta-{condition}-{moment}-static"]
            covered = ours["coverage"] >= TARGET_COVERAGE
            narrower = ours["median_width_s"] <= static["median_width_s"]
            verdict = "met" if covered and narrower else "NOT met"
            lines.append(
                f"- {condition}, at {moment}: coverage {ours['coverage']:.0%} (static "
                f"{static['coverage']:.0%}), median width {ours['median_width_s'] / 60:.1f} min "
                f"(static {static['median_width_s'] / 60:.1f} min): target {verdict}"
            )
    return lines


def section(result: EtaResult, rows: list[dict[str, Any]]) -> str:
    table = [
        "| variant | upgrades | coverage | median width (policy min) |",
        "|---|---|---|---|",
    ]
    for r in rows:
        table.append(
            f"| `{r['variant']}` | {r['upgrades']} | {r['coverage']:.0%} | "
            f"{r['median_width_s'] / 60:.1f} |"
        )
    failed = sum(len(f) for f in result.failed.values())
    return "\n".join(
        [
            HEADING,
            "",
            f"`python -m bench eta` ({result.profile.name}, time scale "
            f"{result.profile.time_scale:g}x, {result.duration_s / 60:.1f} min, {failed} upgrades "
            f"failed): {_rounds(result.profile.rounds)}every payment method x change kind per "
            "condition, arriving one after another, on a fresh dev server, sandbox and worker each "
            "(`bench/eta.py`). "
            "*Coverage*: the share of upgrades whose activation fell inside the interval given "
            "when the payment was confirmed / when propagation started (as the run kept it in its "
            "status); *width* in policy time. `-static`: the policy table's interval at the same "
            "moment (the ETA before issue 14). *load*: the sandbox's peak schedule on all day "
            "(2x) and a crowded config service (`UPGRADE_SANDBOX_FREE_PUSHES=16`, 1 % per push "
            f"beyond). Target: coverage >= {TARGET_COVERAGE:.0%}, no wider than the static one.",
            "",
            *table,
            "",
            *_verdicts(rows),
            "",
        ]
    )


def merge_reports(result: EtaResult, docs: Path) -> tuple[Path, Path]:
    """Replace the `eta` records and section; keep everything else as it is."""
    docs.mkdir(parents=True, exist_ok=True)
    js, md = docs / "benchmarks.json", docs / "benchmarks.md"
    rows = records(result)
    data: dict[str, Any] = json.loads(js.read_text("utf-8")) if js.exists() else {}
    kept = [r for r in data.get("records", []) if not str(r.get("variant", "")).startswith("eta-")]
    data["records"] = kept + rows
    js.write_text(json.dumps(data, indent=2, default=str) + "\n", "utf-8")
    text = md.read_text("utf-8") if md.exists() else "# Benchmarks\n"
    md.write_text(_replace_section(text, section(result, rows)), "utf-8")
    return md, js


def _replace_section(text: str, new: str) -> str:
    lines = text.splitlines()
    if HEADING in lines:
        start = lines.index(HEADING)
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        lines[start:end] = [*new.rstrip("\n").splitlines(), ""]
        return "\n".join(lines).rstrip("\n") + "\n"
    if "## Notes" in lines:  # before the notes, which stay last
        at = lines.index("## Notes")
        lines[at:at] = [*new.rstrip("\n").splitlines(), ""]
        return "\n".join(lines).rstrip("\n") + "\n"
    return text.rstrip("\n") + "\n\n" + new


def print_table(rows: list[dict[str, Any]]) -> None:
    table = Table("variant", "upgrades", "coverage", "median width (policy min)")
    for r in rows:
        table.add_row(
            r["variant"],
            str(r["upgrades"]),
            f"{r['coverage']:.0%}",
            f"{r['median_width_s'] / 60:.1f}",
        )
    Console().print(table)
