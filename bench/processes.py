"""The benchmark's processes: the Temporal dev server, the sandbox and worker processes.

Each runs as a `service.supervise.Child` in its own process group with its output in
`<run dir>/<name>.log`, on free loopback ports (never the fixed ports of `make run`), and is
stopped by the `Processes` context (SIGTERM, then SIGKILL) whatever happens. The dev server is the
one `make run` starts (`service.dev_server.dev_server_command`: our search attributes registered)
on a database file.

Boundary: which processes a benchmark run needs and how to tell they are ready; nothing is
measured here.
"""

import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from service.dev_server import dev_server_command, temporal_binary
from service.ports import free_port
from service.supervise import Child, http_ok, port_open, wait_until

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


class Processes:
    """The children of one benchmark run, stopped in reverse order on exit."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.children: list[Child] = []
        self.env = dict(os.environ, PYTHONUNBUFFERED="1")

    def __enter__(self) -> "Processes":
        self.run_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        for child in reversed(self.children):
            child.stop()

    def _start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> Child:
        log = self.run_dir / f"{name}.log"
        env = {**self.env, **(env or {})}
        child = Child(name, command, log, env=env, stop_timeout_s=STOP_TIMEOUT_S).start()
        self.children.append(child)
        return child

    @staticmethod
    def _wait(child: Child, what: str, ready: Callable[[], bool]) -> None:
        wait_until(f"{child.name}: {what}", ready, timeout_s=STARTUP_TIMEOUT_S, check=child.check)

    def stop(self, child: Child) -> None:
        child.stop()
        self.children.remove(child)

    def dev_server(self, db: Path) -> tuple[Child, str]:
        port, ui_port = free_port(), free_port()
        child = self._start("temporal", dev_server_command(temporal_binary(), db, port, ui_port))
        self._wait(child, "the gRPC port", lambda: port_open(port))
        return child, f"127.0.0.1:{port}"

    def sandbox(self) -> tuple[Child, str]:
        port = free_port()
        data = self.run_dir / "sandbox"
        data.mkdir(exist_ok=True)
        command = [sys.executable, "-m", "bench.sandbox_server", "--port", str(port)]
        url = f"http://127.0.0.1:{port}"
        child = self._start("sandbox", [*command, "--data-dir", str(data)])
        self._wait(child, "/healthz", lambda: http_ok(f"{url}/healthz"))
        return child, url

    def worker(
        self, name: str, address: str, variants: list[str], platform_url: str, max_cached: int
    ) -> Child:
        command = [
            sys.executable, "-m", "bench.worker_process", "--address", address,
            "--variants", ",".join(variants), "--platform-url", platform_url,
            "--max-cached-workflows", str(max_cached),
        ]  # fmt: skip
        child = self._start(name, command)
        self._wait(child, "`ready`", lambda: "\nready\n" in "\n" + child.output())
        return child

    def loaded_sandbox(
        self, name: str, time_scale: float, load: dict[str, str]
    ) -> tuple[Child, str]:
        """The real sandbox (`python -m sandbox serve`) with its delays at `time_scale` and the
        load knobs `load` (`UPGRADE_SANDBOX_*`), for `python -m bench eta`."""
        port = free_port()
        data = self.run_dir / name
        data.mkdir(exist_ok=True)
        env = {
            "UPGRADE_TIME_SCALE": str(time_scale),
            "UPGRADE_DATA_DIR": str(data),
            "UPGRADE_LOG_LEVEL": "WARNING",
            **load,
        }
        command = [sys.executable, "-m", "sandbox", "serve", "--port", str(port)]
        url = f"http://127.0.0.1:{port}"
        child = self._start(name, command, env)
        self._wait(child, "/healthz", lambda: http_ok(f"{url}/healthz"))
        return child, url
