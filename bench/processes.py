"""The benchmark's processes: the Temporal dev server, the sandbox and worker processes.

Each runs as a child in its own session with its output in `<run dir>/<name>.log`, on free
loopback ports (never the fixed ports of `make run`), and is stopped by the `Processes` context
(SIGTERM, then SIGKILL) whatever happens. The dev server is the one `make run` starts
(`service.stack.dev_server_command`: our search attributes registered) on a database file.

Boundary: starting, waiting for and stopping processes; nothing is measured here.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import httpx

from service.ports import free_port
from service.stack import dev_server_command, temporal_binary

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


class ProcessFailed(RuntimeError):
    pass


class Child:
    def __init__(self, name: str, command: list[str], log: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log = log
        self._out = log.open("ab")
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def check(self) -> None:
        code = self.process.poll()
        if code is not None:
            tail = self.log.read_text(errors="replace").splitlines()[-15:]
            raise ProcessFailed(f"{self.name} exited with {code}:\n" + "\n".join(tail))

    def wait_until(self, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            self.check()
            try:
                if ready():
                    return
            except (OSError, httpx.HTTPError):
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise ProcessFailed(f"{self.name}: {what} not seen within {STARTUP_TIMEOUT_S:g}s")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._out.close()


def _port_open(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


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
        child = Child(name, command, self.run_dir / f"{name}.log", env or self.env)
        self.children.append(child)
        return child

    def stop(self, child: Child) -> None:
        child.stop()
        self.children.remove(child)

    def dev_server(self, db: Path) -> tuple[Child, str]:
        port, ui_port = free_port(), free_port()
        child = self._start("temporal", dev_server_command(temporal_binary(), db, port, ui_port))
        child.wait_until("the gRPC port", lambda: _port_open(port))
        return child, f"127.0.0.1:{port}"

    def sandbox(self) -> tuple[Child, str]:
        port = free_port()
        data = self.run_dir / "sandbox"
        data.mkdir(exist_ok=True)
        command = [sys.executable, "-m", "bench.sandbox_server", "--port", str(port)]
        child = self._start("sandbox", [*command, "--data-dir", str(data)])
        url = f"http://127.0.0.1:{port}"
        child.wait_until(
            "/healthz", lambda: httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200
        )
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
        child.wait_until("`ready`", lambda: b"\nready\n" in b"\n" + child.log.read_bytes())
        return child
