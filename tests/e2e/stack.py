"""A private copy of the whole system as real processes on loopback, for end-to-end tests:
the Temporal dev server (its own SQLite file), the sandbox platform and one worker, on free ports,
at a high time scale, and optionally the HTTP ingress (`start(ingress=True)`, with the documented
development secrets). Commands run the way an operator runs them: `python starter.py ...`,
`python -m sandbox ...`. The fault suite (`tests/faults/`) also kills and restarts them one by
one (a second worker, SIGKILL, the dev server again on the same database file and port).
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

from ingress.settings import development_env
from service.ports import free_port
from service.stack import dev_server_command, temporal_binary
from service.temporal import connect

ROOT = Path(__file__).resolve().parents[2]


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
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
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

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.data_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            args, cwd=ROOT, env=self.env | (env or {}), stdout=log, stderr=subprocess.STDOUT
        )

    def start(self, ingress: bool = False) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.start_temporal(wait=False)
        self.start_sandbox(wait=False)
        self._wait_port(self.temporal_port, "temporal")
        self._wait_http(f"http://127.0.0.1:{self.sandbox_port}/healthz", "sandbox")
        self.start_worker()
        if ingress:
            self.start_ingress()

    def start_ingress(self) -> None:
        self._spawn("ingress", [sys.executable, "-m", "ingress"])
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
        # Each worker process serves its own Prometheus endpoint: a second one needs another port.
        metrics = {} if name == "worker" else {"UPGRADE_METRICS_BIND": f"127.0.0.1:{free_port()}"}
        self._spawn(name, [sys.executable, "worker.py"], metrics | (env or {}))

    def running(self, name: str) -> bool:
        proc = self.processes.get(name)
        return proc is not None and proc.poll() is None

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> int:
        """Send `sig` to one of the stack's processes and wait for it to end; its exit status."""
        proc = self.processes[name]
        if proc.poll() is None:
            proc.send_signal(sig)
        return proc.wait(timeout=60)

    def _check_alive(self, name: str) -> None:
        proc = self.processes[name]
        if proc.poll() is not None:
            log = (self.data_dir / f"{name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{log}")

    def _wait_port(self, port: int, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive(name)
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not listen on {port}")

    def _wait_http(self, url: str, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive(name)
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not answer {url}")

    def stop(self) -> None:
        workers = [n for n in self.processes if n.startswith("worker")]
        for name in ("ingress", *workers, "sandbox", "temporal"):
            proc = self.processes.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

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
