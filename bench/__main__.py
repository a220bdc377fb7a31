"""`python -m bench [--quick | --tiny] [--docs DIR] [--run-dir DIR]`: run the benchmark, print
the table, write `<docs>/benchmarks.md` and `<docs>/benchmarks.json`.
`python -m bench eta [--tiny] [--docs DIR] [--run-dir DIR]`: the ETA calibration (`bench.eta`),
merged into the same two files.

`make bench` is the full run (well over an hour on 2 cores), `make bench-quick` the ~2-3 minute
check of the harness; `--tiny` is what the test runs. The run directory (default
`.data/bench`) holds the server's database and every child's log, and is replaced on each run.
"""

import argparse
import asyncio
import sys
from pathlib import Path

from bench.machine import describe_machine
from bench.profiles import PROFILES
from bench.report import print_table, write_reports
from bench.runner import run_bench
from bench.summary import summarize
from service.process import run_and_exit

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "bench" / "NOTES.md"


def main() -> int:
    if sys.argv[1:2] == ["eta"]:
        return eta_main(sys.argv[2:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="a ~2-3 minute run (harness check)")
    mode.add_argument("--tiny", action="store_true", help="a few upgrades (the test)")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs", help="(%(default)s)")
    parser.add_argument("--run-dir", type=Path, default=ROOT / ".data" / "bench")
    args = parser.parse_args()
    profile = PROFILES["quick" if args.quick else "tiny" if args.tiny else "full"]
    machine = describe_machine()
    print(f"bench: {profile.name} run on {machine['cores']} cores ({machine['cpu_model']})")
    result = asyncio.run(run_bench(profile, args.run_dir, say=lambda line: print(line, flush=True)))
    summary = summarize(result, machine)
    print_table(summary)
    notes = NOTES.read_text("utf-8") if NOTES.exists() else ""
    md, js = write_reports(summary, args.docs, notes)
    print(f"bench: wrote {md} and {js} ({result.duration_s / 60:.1f} min)")
    return 0


def eta_main(argv: list[str]) -> int:
    from bench.eta import PROFILES as ETA_PROFILES
    from bench.eta import run_eta_bench
    from bench.eta_report import merge_reports, print_table, records

    parser = argparse.ArgumentParser(prog="python -m bench eta", description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="a few upgrades (the test)")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs", help="(%(default)s)")
    parser.add_argument("--run-dir", type=Path, default=ROOT / ".data" / "bench-eta")
    args = parser.parse_args(argv)
    profile = ETA_PROFILES["tiny" if args.tiny else "full"]
    say = lambda line: print(line, flush=True)  # noqa: E731
    result = asyncio.run(run_eta_bench(profile, args.run_dir, say))
    print_table(records(result))
    md, js = merge_reports(result, args.docs)
    print(f"bench eta: wrote {md} and {js} ({result.duration_s / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    run_and_exit(main)
