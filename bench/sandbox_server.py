"""The sandbox platform with its simulated delays removed, for the REAL-http variant.

`python -m bench.sandbox_server --port P --data-dir D` serves the real sandbox app (same
contract, same SQLite ledger) with every simulated delay divided by `NO_DELAY_SCALE`: the slowest
normal propagation (65 min) becomes 4 µs. `UPGRADE_TIME_SCALE` stops at 1e5, where propagation
still takes 9-14 ms; the saga (policy at time scale 1, production timers) checks the regions
once after the fan-out and would otherwise sleep 90 s on a durable timer whenever its check came
within those milliseconds, turning a race into the benchmark's result.

Boundary: process wiring only; access logging is off (the benchmark measures the saga's worker,
and the sandbox shares the machine with it).
"""

import argparse
from pathlib import Path

from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from service.process import run_and_exit

NO_DELAY_SCALE = 1e9


def main() -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.sandbox_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    app = create_app(SandboxSettings(data_dir=args.data_dir), time_scale=NO_DELAY_SCALE)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    run_and_exit(main)
