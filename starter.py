"""`starter.py`: the CLI a backend script or an operator uses to drive upgrades.

Commands: start, status, follow, confirm-payment, resolve, cancel, list, audit; each takes `--json`
for machines. Exit codes: 0 success; 2 invalid input (one line on stderr naming the field; nothing
started or changed); 1 anything else (Temporal unreachable, unknown order, ...; for `audit`: any
violation); 130 when `follow` is stopped with Ctrl-C (the upgrade goes on). The entry point only:
the CLI is the `cli` package (`cli.main`).
"""

from cli.main import main
from service.process import run_and_exit

__all__ = ["main"]

if __name__ == "__main__":
    run_and_exit(main)
