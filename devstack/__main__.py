"""`python -m devstack` (`make run`): the options, then `devstack.stack.run_stack`."""

import argparse
import asyncio

from devstack.stack import run_stack
from service.process import run_and_exit


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description=(
            "The embedded default: Temporal dev server, sandbox, worker and ingress, supervised."
        ),
    )
    parser.add_argument("--port", type=int, default=7233, help="Temporal gRPC port (7233)")
    parser.add_argument("--ui-port", type=int, default=8233, help="Temporal Web UI port (8233)")
    parser.add_argument(
        "--metrics-port", type=int, default=9464, help="the worker's Prometheus port (9464)"
    )
    args = parser.parse_args()
    return asyncio.run(run_stack(args.port, args.ui_port, args.metrics_port))


if __name__ == "__main__":
    run_and_exit(main)
