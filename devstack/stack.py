"""The embedded default (`make run`, i.e. `python -m devstack`): the Temporal dev server, the
sandbox platform, the worker and the HTTP ingress, supervised by one foreground process.

Role: bring the four up in dependency order on loopback, each waited for until it answers; on a
fresh database (no `.data/temporal.db` before this start) submit the demo batch of
`devstack/demo_orders.json` through `starter.py` (`UPGRADE_DEMO=0` skips it); print the Web UI URL
and a line containing `ready`; then supervise (`devstack.supervisor`): a worker, sandbox, ingress or
codec server that dies is restarted with back-off; the Temporal server's death, or a child that
keeps dying, stops the rest and exits 1 with a line naming it. Ctrl-C or SIGTERM stops the
ingress, then the worker (it drains its activities), then the sandbox, then the server, and exits 0.

Boundary: process wiring only. The stack runs the same commands an operator would
(`temporal server start-dev`, `python -m sandbox serve`, `python worker.py`, `python starter.py
start`), holds no business logic, and talks to Temporal only to see that the server and the worker
answer. Children get the stack's environment plus `TEMPORAL_ADDRESS`/`TEMPORAL_NAMESPACE` of the
dev server and an absolute `UPGRADE_DATA_DIR`; `UPGRADE_TIME_SCALE=60` (the demo profile),
`UPGRADE_PLATFORM_URL` (the sandbox started here) and `UPGRADE_METRICS_BIND` (the worker's
Prometheus endpoint, `--metrics-port`, 9464) unless they are already set. The ingress's
channel secrets and tokens get their documented development values unless they are set (the
stack prints which; a value from the environment is never printed), and Alipay and WeChat Pay
development keys generated under `.data/channel-keys/` configure both the ingress's doors and the
sandbox playing those channels (`devstack.channel_keys`).

Output: each child's stdout and stderr are appended to `.data/logs/<name>.log` (the paths are
printed at start); the terminal keeps the stack's own lines, plus the tail of a child's log when it
fails. Children run in their own process groups, so a terminal Ctrl-C reaches only this
supervisor, which stops them in order (the server must outlive the draining worker).
"""

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import ValidationError
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from devstack.channel_keys import apply_channel_keys
from devstack.demo import cancel_demo_order, submit_demo
from devstack.supervisor import StackFailed, StopRequested, Supervisor
from ingress.settings import IngressSettings, development_env, load_ingress_settings
from service.dev_server import (
    HOST,
    NAMESPACE,
    TemporalNotFound,
    dev_server_command,
    temporal_binary,
)
from service.metrics_endpoint import metrics_url
from service.settings import Settings, settings_error_line
from service.supervise import NotReady, http_answers, until_ready
from service.temporal import connect

ROOT = Path(__file__).resolve().parent.parent
DEMO_TIME_SCALE = "60"
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0  # sandbox and server, from SIGTERM to SIGKILL
WORKER_STOP_MARGIN_S = 5.0  # on top of the worker's own shutdown grace
_background: set[asyncio.Task[None]] = set()


class StackError(Exception):
    """A startup failure, reported as one line."""


def say(line: str) -> None:
    print(line, flush=True)


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


async def bring_up(stack: Supervisor, settings: IngressSettings, port: int, ui_port: int) -> None:
    """Start the children in dependency order, each waited for until it answers."""
    db = settings.data_dir / "temporal.db"
    python = sys.executable

    async def ready(what: str, probe: Callable[[], Awaitable[object | None]]) -> None:
        await until_ready(what, probe, timeout_s=STARTUP_TIMEOUT_S, check=stack.check)

    codec = None
    if settings.encryption_keys is not None:
        codec = f"http://localhost:{settings.codec_port}"
        # The browser calls the codec server from the UI's origin.
        stack.env.setdefault("UPGRADE_CODEC_CORS_ORIGINS", f"http://localhost:{ui_port}")
        stack.start("codec", [python, "-m", "service.codec_server"], STOP_TIMEOUT_S)
        await ready("the codec server", lambda: http_answers(f"{codec}/health"))
        say(f"stack: payloads encrypted; codec server for the Web UI at {codec}")
    try:
        server = dev_server_command(temporal_binary(), db, port, ui_port, codec)
    except TemporalNotFound as error:
        raise StackError(str(error)) from None
    stack.start("temporal", server, STOP_TIMEOUT_S, essential=True)
    client = await until_ready(
        "the Temporal dev server", lambda: temporal_client(f"{HOST}:{port}"),
        timeout_s=STARTUP_TIMEOUT_S, check=stack.check,
    )  # fmt: skip

    stack.start("sandbox", [python, "-m", "sandbox", "serve"], STOP_TIMEOUT_S)
    await ready("the sandbox", lambda: http_answers(f"{sandbox_url(settings)}/healthz"))

    since = time.time() - 1
    grace = settings.shutdown_grace_s + WORKER_STOP_MARGIN_S
    stack.start("worker", [python, str(ROOT / "worker.py")], grace)
    await ready("the worker", lambda: worker_polling(client, settings.task_queue, since))

    stack.start("ingress", [python, "-m", "ingress"], STOP_TIMEOUT_S)
    # `/readyz` answers 200 once the ingress is up and reaches Temporal.
    await ready("the ingress", lambda: http_answers(f"{ingress_url(settings)}/readyz", 3.0))


def say_ready(settings: IngressSettings, ui_port: int) -> None:
    ui = f"http://localhost:{ui_port}/namespaces/{NAMESPACE}/workflows"
    ingress = ingress_url(settings)
    say(f"Temporal Web UI: {ui}")
    say(f"Ingress API: {ingress} (OpenAPI page {ingress}/docs)")
    if settings.metrics_bind:
        say(f"Worker metrics (Prometheus): {metrics_url(settings.metrics_bind)}")
    say(
        f"upgrade-activation stack ready: UI {ui}, sandbox {sandbox_url(settings)}, "
        f"ingress {ingress}, time scale {settings.time_scale:g}x; press Ctrl-C to stop"
    )


def prepare() -> IngressSettings:
    """The settings the stack runs with; `StackError` for a bad variable or a port in use."""
    try:
        settings = load_ingress_settings()
    except ValidationError as error:
        raise StackError(f"invalid {settings_error_line(error)}") from None
    return settings.model_copy(update={"data_dir": settings.data_dir.resolve()})


def check_ports(settings: IngressSettings, port: int, ui_port: int) -> None:
    check_port_free(port, "Temporal gRPC")
    check_port_free(ui_port, "Temporal Web UI")
    check_port_free(settings.sandbox_port, "sandbox")
    check_port_free(settings.ingress_port, "ingress")
    if settings.metrics_bind:
        check_port_free(int(settings.metrics_bind.rpartition(":")[2]), "worker metrics")
    if settings.encryption_keys is not None:
        check_port_free(settings.codec_port, "codec server")


async def run_stack(port: int, ui_port: int, metrics_port: int = 9464) -> int:
    os.environ.setdefault("UPGRADE_TIME_SCALE", DEMO_TIME_SCALE)  # the demo profile
    secret_sources = apply_ingress_secrets()
    # The worker inherits it; an explicit UPGRADE_METRICS_BIND (empty: no endpoint) wins.
    os.environ.setdefault("UPGRADE_METRICS_BIND", f"{HOST}:{metrics_port}")
    try:
        settings = prepare()
        check_ports(settings, port, ui_port)
    except StackError as error:
        say(f"stack: {error}")
        return 1
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    for line in secret_sources:
        say(f"stack: ingress {line}")
    for line in apply_channel_keys(settings.data_dir, ingress_url(settings)):
        say(f"stack: channel {line}")

    fresh = not (settings.data_dir / "temporal.db").exists()
    stack = Supervisor(child_env(settings, f"{HOST}:{port}"), log_dir, ROOT, say)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stack.stopping.set)
    code = 0
    watch: asyncio.Future[None] | None = None

    def still_running() -> None:
        """Between two demo orders: raise if the stack is stopping (or must stop)."""
        assert watch is not None
        if watch.done():
            watch.result()  # the supervisor's reason to stop the stack, if it had one
            raise StopRequested
        if stack.stopping.is_set():
            raise StopRequested

    try:
        await bring_up(stack, settings, port, ui_port)
        # From here on a dying child is restarted (the supervisor's policy) instead of fatal.
        watch = asyncio.ensure_future(stack.watch())
        if fresh and os.environ.get("UPGRADE_DEMO", "1") != "0":
            await submit_demo(stack.env, settings.data_dir / "demo", still_running, say)
            task = asyncio.create_task(cancel_demo_order(stack.env, say))
            _background.add(task)
            task.add_done_callback(_background.discard)
        still_running()
        say_ready(settings, ui_port)
        await watch
    except StopRequested:
        pass
    except StackFailed as failed:
        say(str(failed))
        code = 1
    except (StackError, NotReady) as error:
        say(f"stack: {error}")
        code = 1
    finally:
        stack.stopping.set()  # no restart from here on
        if watch is not None and not watch.done():
            await asyncio.wait([watch])
        say("stack: stopping (ingress, worker, sandbox, Temporal)")
        await stack.stop_all()
    say("stack: stopped")
    return code
