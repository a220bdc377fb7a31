"""`python -m tools.cpu_load`: run a command while CPU-bound processes keep the cores busy.

`make test-busy` uses it to run `make test` the way a newcomer's laptop runs it while it does
other things: by default two burners (`while True: pass`, one per core of a 2-core machine) run
for the whole command and are killed when it ends, however it ends. `--runs N` repeats the command
and reports each run's exit status and wall time; the exit status is the first failing run's, or
0 when every run passed.

Boundary: process handling only (no project imports), so it works before anything is installed.
"""

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence

BURN = "while True: pass"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.cpu_load",
        description="Run COMMAND with CPU-bound burner processes alongside.",
    )
    parser.add_argument("--burners", type=int, default=2, help="busy processes (default: 2)")
    parser.add_argument("--runs", type=int, default=1, help="run COMMAND this many times")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    args = parser.parse_args(argv)
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    if not args.command:
        parser.error("a COMMAND to run is required (after --)")
    if args.burners < 0 or args.runs < 1:
        parser.error("--burners must be >= 0 and --runs >= 1")
    return args


def start_burners(count: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(count)]


def stop(burners: list[subprocess.Popen[bytes]]) -> None:
    for proc in burners:
        proc.kill()
    for proc in burners:
        proc.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    results: list[tuple[int, float]] = []
    burners = start_burners(args.burners)
    try:
        for run in range(1, args.runs + 1):
            print(f"cpu_load: run {run}/{args.runs} with {args.burners} burner(s): "
                  f"{' '.join(args.command)}", flush=True)  # fmt: skip
            began = time.monotonic()
            code = subprocess.call(args.command)
            results.append((code, time.monotonic() - began))
    finally:
        stop(burners)
    for run, (code, wall) in enumerate(results, start=1):
        minutes, seconds = divmod(round(wall), 60)
        verdict = "passed" if code == 0 else f"FAILED (exit {code})"
        print(f"cpu_load: run {run}: {verdict} in {minutes} min {seconds:02d} s", flush=True)
    return next((code for code, _ in results if code != 0), 0)


if __name__ == "__main__":
    sys.exit(main())
