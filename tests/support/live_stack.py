"""A private copy of the whole system as real processes on loopback, for end-to-end tests:
the Temporal dev server (its own SQLite file), the sandbox platform and one worker, on free ports,
at a high time scale, and optionally the HTTP ingress (`start(ingress=True)`, with the documented
development secrets). Commands run the way an operator runs them: `python starter.py ...`,
`python -m sandbox ...`. The fault suite (`tests/faults/`) also kills and restarts them one by
one (a second worker, SIGKILL, the dev server again on the same database file and port).
Processes are `service.supervise.Child`ren, as in `make run` and the benchmark.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import Client

from ingress.settings import development_env
from service.dev_server import dev_server_command, temporal_binary
from service.ports import free_port
from service.supervise import Child, http_ok, port_open, wait_until
from service.temporal import connect

ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT_S = 20.0  # from SIGTERM to SIGKILL


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class LiveStack:
    data_dir: Path
    time_scale: float
    temporal_port: int = field(default_factory=free_port)
    ui_port: int = field(default_factory=free_port)
    sandbox_port: int = field(default_factory=free_port)
    ingress_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    children: dict[str, Child] = field(default_factory=dict)
    _client: Client | None = None

    async def client(self) -> Client:
        if self._client is None:
            self._client = await connect(f"127.0.0.1:{self.temporal_port}", "default")
        return self._client

    def forget_client(self) -> None:
        self._client = None

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            TEMPORAL_ADDRESS=f"127.0.0.1:{self.temporal_port}",
            TEMPORAL_NAMESPACE="default",
            UPGRADE_TIME_SCALE=str(self.time_scale),
            UPGRADE_DATA_DIR=str(self.data_dir),
            UPGRADE_SANDBOX_PORT=str(self.sandbox_port),
            UPGRADE_PLATFORM_URL=f"http://127.0.0.1:{self.sandbox_port}",
            UPGRADE_LOG_FORMAT="json",
            UPGRADE_METRICS_BIND=f"127.0.0.1:{self.metrics_port}",
            PYTHONPATH=str(ROOT),
            UPGRADE_INGRESS_PORT=str(self.ingress_port),
        )
        env.update(development_env())  # the ingress's channel secrets and tokens
        return env

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.ingress_port}"

    @property
    def processes(self) -> dict[str, subprocess.Popen[bytes]]:
        """The stack's processes by name, as started (a restarted one replaces its entry)."""
        return {name: child.process for name, child in self.children.items() if child.process}

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Child:
        # In the test's own process group: an interrupted pytest takes them along.
        child = Child(name, args, self.data_dir / f"{name}.log", env=self.env | (env or {}),
                      cwd=ROOT, stop_timeout_s=STOP_TIMEOUT_S, own_group=False)  # fmt: skip
        self.children[name] = child.start()
        return child

    def start(self, ingress: bool = False, ingress_env: dict[str, str] | None = None) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.start_temporal(wait=False)
        self.start_sandbox(wait=False)
        self._wait_port(self.temporal_port, "temporal")
        self._wait_http(f"http://127.0.0.1:{self.sandbox_port}/healthz", "sandbox")
        self.start_worker()
        if ingress:
            self.start_ingress(ingress_env)

    def start_ingress(self, env: dict[str, str] | None = None) -> None:
        """The ingress, with `env` on top of the stack's (e.g. the channels' keys)."""
        self._spawn("ingress", [sys.executable, "-m", "ingress"], env)
        self._wait_http(f"{self.ingress_url}/readyz", "ingress")

    def start_temporal(self, wait: bool = True) -> None:
        """The dev server on this stack's database file and port (again, after a kill)."""
        # The very command `make run` uses (search attributes included), without the Web UI.
        server = dev_server_command(
            temporal_binary(), self.data_dir / "temporal.db", self.temporal_port, self.ui_port
        )
        self._spawn("temporal", [*server, "--headless"])
        if wait:
            self._wait_port(self.temporal_port, "temporal")

    def start_sandbox(self, wait: bool = True) -> None:
        """The sandbox on this stack's port and data directory (its ledger survives restarts)."""
        self._spawn("sandbox", [sys.executable, "-m", "sandbox", "serve",
                                "--port", str(self.sandbox_port)])  # fmt: skip
        if wait:
            self._wait_http(f"http://127.0.0.1:{self.sandbox_port}/healthz", "sandbox")

    def start_worker(self, name: str = "worker", env: dict[str, str] | None = None) -> None:
        if name == "worker" and not self.running("worker"):
            # Picked now, not when the stack was made: the dev server and the sandbox start in
            # between and open ports of their own; a port probed free long before was once taken
            # by then ("Address already in use": the worker exited, every query timed out).
            self.metrics_port = free_port()
        # Each worker process serves its own Prometheus endpoint: a second one needs another port.
        metrics = {} if name == "worker" else {"UPGRADE_METRICS_BIND": f"127.0.0.1:{free_port()}"}
        self._spawn(name, [sys.executable, "worker.py"], metrics | (env or {}))

    def running(self, name: str) -> bool:
        child = self.children.get(name)
        return child is not None and child.running

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> int:
        """Send `sig` to one of the stack's processes and wait for it to end; its exit status."""
        child = self.children[name]
        child.send(sig)
        return child.wait(60)

    def _wait_port(self, port: int, name: str, timeout: float = 60) -> None:
        child = self.children[name]
        wait_until(f"{name} on port {port}", lambda: port_open(port), timeout_s=timeout,
                   check=lambda: self._check_alive(child))  # fmt: skip

    def _wait_http(self, url: str, name: str, timeout: float = 60) -> None:
        child = self.children[name]
        wait_until(f"{name} at {url}", lambda: http_ok(url), timeout_s=timeout,
                   check=lambda: self._check_alive(child))  # fmt: skip

    @staticmethod
    def _check_alive(child: Child) -> None:
        if not child.running:
            log = child.output()[-3000:]
            raise RuntimeError(f"{child.name} exited with {child.returncode}:\n{log}")

    def stop(self) -> None:
        workers = [n for n in self.children if n.startswith("worker")]
        for name in ("ingress", *workers, "sandbox", "temporal"):
            child = self.children.get(name)
            if child is not None:
                child.stop()

    async def run(
        self, *args: str, timeout: float = 120, env: dict[str, str] | None = None
    ) -> CliResult:
        """Run `python <args>` (e.g. `starter.py status X --json`) against this stack, with
        `env` on top of the stack's environment."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=ROOT, env=self.env | (env or {}),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
        assert proc.returncode is not None
        return CliResult(proc.returncode, out.decode(), err.decode())
