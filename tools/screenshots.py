"""`make screenshots`: what an operator sees in the Temporal Web UI, as PNGs under docs/screenshots/.

Role: run the whole stack (`python -m devstack`: dev server with its Web UI, sandbox, worker,
demo batch) on free ports with a fresh temporary data directory; wait until the demo's runs are in
the states worth showing (one escalated past the activation SLA while its config still
propagates, one waiting in `needs_attention`, one cancelled and unwound, one failed); then open
the Web UI in headless Chromium (Debian's package, installed on demand; driven by Playwright) and
save the saved-query lists and the run pages. Everything it started is stopped before it exits.

Exit 0 when every PNG is written; 1 with one line otherwise (Chromium missing and not installable,
the stack not ready, a scenario not reached in time, a page that did not render).

Boundary: a developer tool. It reads runs through `client.upgrades` and the Web UI only; it never
sends a run a message (the stack's demo does the one cancel).
"""

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from client import upgrades
from domain.stages import Stage
from domain.status import EscalationReason, UpgradeStatus
from service.ports import free_port
from service.process import run_and_exit
from service.supervise import Child, NotReady, until_ready
from service.temporal import connect
from tools.chromium import BrowserUnavailable, ensure_chromium
from tools.shots import CANCELLED, LAG, NOCAP, PAYFAIL, ScreenshotError, photograph, say

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "docs" / "screenshots"
STACK_READY_TIMEOUT_S = 180.0
STACK_STOP_TIMEOUT_S = 60.0


# ------------------------------------------------------------------------------------- the stack
@dataclass
class StackProcess:
    child: Child
    port: int
    ui_port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui(self) -> str:
        return f"http://localhost:{self.ui_port}/namespaces/default"


async def start_stack(data_dir: Path, time_scale: str) -> StackProcess:
    port, ui_port, sandbox_port = free_port(), free_port(), free_port()
    env = dict(os.environ)
    env.update(
        UPGRADE_DATA_DIR=str(data_dir),
        UPGRADE_TIME_SCALE=time_scale,
        UPGRADE_SANDBOX_PORT=str(sandbox_port),
        UPGRADE_PLATFORM_URL=f"http://127.0.0.1:{sandbox_port}",
        UPGRADE_DEMO="1",
        PYTHONUNBUFFERED="1",
    )
    command = [sys.executable, "-m", "devstack", "--port", str(port), "--ui-port", str(ui_port)]
    # SIGINT, as Ctrl-C on `make run`: the stack drains the worker, then stops the rest.
    child = Child("stack", command, data_dir / "stack.out", env=env, cwd=ROOT,
                  stop_timeout_s=STACK_STOP_TIMEOUT_S).start()  # fmt: skip
    stack = StackProcess(child, port, ui_port)
    say(f"screenshots: started the stack (pid {child.pid}), output in {child.log}")

    async def ready() -> bool | None:
        return True if "ready" in child.output() else None

    def alive() -> None:
        if not child.running:
            raise ScreenshotError(f"the stack exited with {child.returncode}: {_tail(child)}")

    try:
        await until_ready("the stack", ready, timeout_s=STACK_READY_TIMEOUT_S, check=alive)
    except NotReady:
        await stop_stack(stack)
        raise ScreenshotError(
            f"the stack was not ready within {STACK_READY_TIMEOUT_S:g}s"
        ) from None
    say(f"screenshots: stack ready, Web UI {stack.ui}")
    return stack


def _tail(child: Child) -> str:
    return " | ".join(child.output().strip().splitlines()[-3:])


async def stop_stack(stack: StackProcess) -> None:
    await stack.child.stop_async(signal.SIGINT)
    say(f"screenshots: stack stopped (exit {stack.child.returncode})")


# ----------------------------------------------------------------------------------- the scenes
def escalated_while_propagating(status: UpgradeStatus) -> bool:
    reasons = {e.reason for e in status.escalations}
    return EscalationReason.ACTIVATION_SLA in reasons and status.stage is Stage.PROPAGATING


SCENES: dict[str, Callable[[UpgradeStatus], bool]] = {
    NOCAP: lambda s: s.stage is Stage.NEEDS_ATTENTION,
    CANCELLED: lambda s: s.stage is Stage.CANCELLED,
    PAYFAIL: lambda s: s.stage is Stage.FAILED,
    # Last: the SLA fires 2 h of policy time after payment, and the `lag` app's regions converge
    # an hour later, so this is the window in which to photograph it.
    LAG: escalated_while_propagating,
}


async def wait_for_scenes(client: Client, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    for order_id, reached in SCENES.items():
        while True:
            try:
                status = await upgrades.upgrade_status(client, order_id)
                if reached(status):
                    say(f"screenshots: {order_id} is {status.stage}")
                    break
                if status.stage.is_terminal:
                    raise ScreenshotError(f"{order_id} ended {status.stage} before its scene")
            except upgrades.UpgradeNotFound:
                pass  # the demo batch has not started it yet
            if time.monotonic() > deadline:
                raise ScreenshotError(f"{order_id} did not reach its scene within {timeout_s:g}s")
            await asyncio.sleep(1.0)


# ------------------------------------------------------------------------------------------ main
async def with_stack(
    time_scale: str, scene_timeout_s: float, work: Callable[[StackProcess], Awaitable[None]]
) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="upgrade-screenshots-"))
    stack: StackProcess | None = None
    try:
        stack = await start_stack(data_dir, time_scale)
        await work(stack)
    finally:
        if stack is not None:
            await stop_stack(stack)
        shutil.rmtree(data_dir, ignore_errors=True)


async def run(out_dir: Path, time_scale: str, scene_timeout_s: float) -> int:
    try:
        import playwright  # noqa: F401  (the optional extra; checked before anything starts)
    except ImportError:
        say("screenshots: playwright is not installed: pip install -e '.[screenshots]'")
        return 1
    try:
        chromium = ensure_chromium(say)

        async def work(stack: StackProcess) -> None:
            client = await connect(stack.address, "default")
            await wait_for_scenes(client, scene_timeout_s)
            await photograph(client, stack.ui, chromium, out_dir)

        await with_stack(time_scale, scene_timeout_s, work)
    except (ScreenshotError, BrowserUnavailable) as error:
        say(f"screenshots: {error}")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the PNGs go")
    parser.add_argument(
        "--time-scale", default="60", help="UPGRADE_TIME_SCALE of the stack (default 60)"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait for the scenes"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    return asyncio.run(run(args.out.resolve(), args.time_scale, args.timeout))


if __name__ == "__main__":
    run_and_exit(main)
