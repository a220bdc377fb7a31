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
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from temporalio.client import Client

from client import upgrades
from domain.models import workflow_id_for
from domain.stages import Stage
from domain.status import EscalationReason, UpgradeStatus
from service.ports import free_port
from service.process import run_and_exit
from service.supervise import Child, NotReady, until_ready
from service.temporal import connect
from tools.chromium import FLAGS, BrowserUnavailable, ensure_chromium

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1600, "height": 1000}
MAX_PNG_BYTES = 500_000
STACK_READY_TIMEOUT_S = 180.0
STACK_STOP_TIMEOUT_S = 60.0
PAGE_TIMEOUT_MS = 30_000

LAG, NOCAP, CANCELLED, PAYFAIL = "DEMO-LAG-1", "DEMO-NOCAP-1", "DEMO-CANCEL-1", "DEMO-PAYFAIL-1"

# The list columns an operator wants: our search attributes next to the id. The Web UI keeps its
# settings in the browser's local storage (JSON values); a fresh profile gets these.
COLUMNS_KEY = "namespace-workflow-table-columns"
UI_SETTINGS = {
    "navOpen": False,  # the side navigation folded: room for the columns
    "timeFormat": "UTC",  # the times our details and CLI print
}
COLUMNS = [
    "Status",
    "Workflow ID",
    "UpgradeStage",
    "Escalated",
    "PaymentMethod",
    "ActivationDeadline",
    "ActivationEta",
]


class ScreenshotError(Exception):
    """Reported as one line; exit 1."""


def say(line: str) -> None:
    print(line, flush=True)


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


# -------------------------------------------------------------------------------------- the shots
@dataclass(frozen=True)
class Shot:
    name: str
    path: str  # under the namespace's UI root
    wait_for: str  # a text that appears once the page has its data
    tab: str | None = None  # a run page tab to open first
    scroll_to: str | None = None  # a heading to bring to the top of the window


def list_path(query: str) -> str:
    return "/workflows?query=" + quote(query, safe="")


async def run_path(client: Client, order_id: str, tab: str = "history") -> str:
    workflow_id = workflow_id_for(order_id)
    description = await client.get_workflow_handle(workflow_id).describe()
    return f"/workflows/{workflow_id}/{description.run_id}/{tab}"


async def shots(client: Client) -> list[Shot]:
    lag_page = await run_path(client, LAG)
    nocap_page = await run_path(client, NOCAP)
    cancelled_page = await run_path(client, CANCELLED)
    return [
        Shot("escalated-runs", list_path("Escalated = true"), workflow_id_for(LAG)),
        Shot(
            "needs-attention-runs",
            list_path("UpgradeStage = 'needs_attention'"),
            workflow_id_for(NOCAP),
        ),
        Shot(
            "all-runs", list_path("WorkflowType = 'upgrade-activation'"), workflow_id_for(PAYFAIL)
        ),
        Shot("run-escalated-details", lag_page, "Current Details", tab="User Metadata"),
        Shot(
            "run-needs-attention-details",
            nocap_page,
            "Current Details",
            tab="User Metadata",
        ),
        Shot("run-cancelled-details", cancelled_page, "Current Details", tab="User Metadata"),
        Shot(
            "run-cancelled-timeline",
            cancelled_page,
            "refund_payment",
            tab="Timeline",
            scroll_to="Timeline",
        ),
    ]


async def take(browser: Any, ui: str, shot: Shot, out_dir: Path) -> Path:
    context = await browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    columns = {"default": [{"label": c, "pinned": i < 2} for i, c in enumerate(COLUMNS)]}
    settings = {**UI_SETTINGS, COLUMNS_KEY: columns}
    script = "".join(
        f"window.localStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(value))});"
        for key, value in settings.items()
    )
    await context.add_init_script(script)
    try:
        page = await context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        await page.goto(ui + shot.path, wait_until="load")
        if shot.tab is not None:
            await page.get_by_text(shot.tab, exact=True).first.click()
        try:
            await page.get_by_text(shot.wait_for).first.wait_for(state="visible")
        except Exception as error:
            raise ScreenshotError(
                f"{shot.name}: {shot.wait_for!r} never appeared on {shot.path}"
            ) from error
        if shot.scroll_to is not None:
            heading = page.get_by_role("heading", name=shot.scroll_to, exact=True).first
            await heading.evaluate("element => element.scrollIntoView({block: 'start'})")
        await page.wait_for_timeout(1000)  # let late requests (counts, badges) settle
        target = out_dir / f"{shot.name}.png"
        await page.screenshot(path=str(target))
    finally:
        await context.close()
    size = target.stat().st_size
    if size > MAX_PNG_BYTES:
        raise ScreenshotError(f"{target} is {size} bytes, over {MAX_PNG_BYTES}")
    say(f"screenshots: wrote {target} ({size // 1000} KB)")
    return target


async def photograph(client: Client, ui: str, chromium: Path, out_dir: Path) -> list[Path]:
    from playwright.async_api import async_playwright

    written: list[Path] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=list(FLAGS)
        )
        try:
            for shot in await shots(client):
                written.append(await take(browser, ui, shot, out_dir))
        finally:
            await browser.close()
    return written


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
