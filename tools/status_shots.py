"""`make status-screenshots`: the customer's status page as a phone shows it, as PNGs under
docs/screenshots/: an order in progress, one late with a ticket (the demo's `lag` order, in
English and in Chinese), one active.

Role: run the whole stack like `make screenshots` (`tools.screenshots.with_stack`: dev server,
sandbox, worker, ingress, demo batch, on free ports, fresh data directory), wait for each scene,
sign a status link for its order with the stack's development secret (`ingress.links`, as
`starter.py status-link` does), open the page in headless Chromium (Debian's package, driven by
Playwright; Debian's `fonts-noto-cjk` for the Chinese page) at a phone's size, and save it. Each
scene is photographed as soon as it is reached: the orders move on. Exit 0 when every PNG is
written; 1 with one line otherwise.

Boundary: a developer tool; it reads runs through `client.upgrades` and the page over HTTP, and
never sends a run a message.
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client

from client import upgrades
from domain.progress import regions_applied
from domain.stages import Stage
from domain.status import UpgradeStatus
from ingress import links
from ingress.settings import DEV_STATUS_LINK_SECRET
from service.ports import free_port
from service.process import run_and_exit
from service.temporal import connect
from tools.chromium import FLAGS, BrowserUnavailable, ensure_chromium
from tools.screenshots import OUT_DIR, StackProcess, escalated_while_propagating, with_stack
from tools.shots import LAG, ScreenshotError, say

PHONE = {"width": 390, "height": 844}
MAX_PNG_BYTES = 500_000
LINK_TTL = timedelta(hours=1)
DEMO = ("DEMO-MEDIA-1", "DEMO-ALIPAY-1", "DEMO-WECHAT-1", "DEMO-CARD-1")


def ensure_cjk_font() -> None:
    """The Chinese page needs a CJK font (Debian's `fonts-noto-cjk`): without one, boxes."""
    listed = subprocess.run(
        ["fc-list", ":lang=zh"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if listed:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BrowserUnavailable(
            "no Chinese font: run `sudo apt-get install -y fonts-noto-cjk`, then retry"
        )
    say("status screenshots: no Chinese font, installing Debian's fonts-noto-cjk (apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    installed = subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", "fonts-noto-cjk"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if installed.returncode != 0:
        raise BrowserUnavailable(
            f"apt-get install fonts-noto-cjk failed: {installed.stderr[-200:]}"
        )


def in_progress(status: UpgradeStatus) -> bool:
    """Propagating on time, some regions applied and some not: the page's busiest moment."""
    applied = regions_applied(status)
    on_time = not any(e.closed_at is None for e in status.escalations)
    return status.stage is Stage.PROPAGATING and on_time and 0 < applied < len(status.regions)


@dataclass(frozen=True)
class Scene:
    name: str
    candidates: tuple[str, ...]
    reached: Callable[[UpgradeStatus], bool]
    languages: tuple[str, ...] = ("en",)


SCENES = [
    Scene("status-page-in-progress", DEMO, in_progress),
    Scene("status-page-active", DEMO, lambda s: s.stage is Stage.ACTIVE),
    # Last: the SLA fires 2 h of policy time after payment (2 min at 60x).
    Scene("status-page-late", (LAG,), escalated_while_propagating, ("en", "zh")),
]


async def wait_for(client: Client, scene: Scene, deadline: float) -> str:
    """The first candidate order that reaches the scene."""
    while True:
        for order_id in scene.candidates:
            try:
                if scene.reached(await upgrades.upgrade_status(client, order_id)):
                    say(f"status screenshots: {order_id} is in scene {scene.name}")
                    return order_id
            except upgrades.UpgradeNotFound:
                pass  # the demo batch has not started it yet
        if time.monotonic() > deadline:
            raise ScreenshotError(f"no order reached {scene.name} in time")
        await asyncio.sleep(0.3)


async def quiet_stream(route: Any) -> None:
    await route.fulfill(status=200, content_type="text/event-stream", body="retry: 600000\n\n")


async def take(browser: Any, url: str, language: str, target: Path) -> None:
    context = await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
        locale="zh-CN" if language == "zh" else "en-US", timezone_id="UTC",
    )  # fmt: skip
    try:
        page = await context.new_page()
        # The page reloads itself at each change of the run (several a second while regions apply
        # at 60x): answer its event stream with a quiet one, so that the picture holds still.
        await page.route("**/events?*", quiet_stream)
        await page.goto(url, wait_until="load")
        await page.locator("main").wait_for(state="visible")
        await page.screenshot(path=str(target), full_page=True)
    finally:
        await context.close()
    check_size(target)


def check_size(target: Path) -> None:
    size = target.stat().st_size
    if size > MAX_PNG_BYTES:
        raise ScreenshotError(f"{target} is {size} bytes, over {MAX_PNG_BYTES}")
    say(f"status screenshots: wrote {target} ({size // 1000} KB)")


async def photograph(
    stack: StackProcess, ingress: str, chromium: Path, out: Path, timeout_s: float
) -> None:
    from playwright.async_api import async_playwright

    client = await connect(stack.address, "default")
    deadline = time.monotonic() + timeout_s
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=list(FLAGS)
        )
        try:
            for scene in SCENES:
                order_id = await wait_for(client, scene, deadline)
                expires = datetime.now(UTC) + LINK_TTL
                token = links.make_token(DEV_STATUS_LINK_SECRET, order_id, expires)
                url = links.status_url(ingress, order_id, token)
                for language in scene.languages:
                    suffix = "" if language == "en" else f"-{language}"
                    target = out / f"{scene.name}{suffix}.png"
                    await take(browser, f"{url}&lang={language}", language, target)
        finally:
            await browser.close()


async def run(out: Path, time_scale: str, timeout_s: float) -> int:
    try:
        import playwright  # noqa: F401  (the optional extra; checked before anything starts)
    except ImportError:
        say("status screenshots: playwright is not installed: pip install -e '.[screenshots]'")
        return 1
    # The stack's ingress on a free port (the child inherits our environment).
    port = free_port()
    os.environ["UPGRADE_INGRESS_PORT"] = str(port)
    os.environ["UPGRADE_METRICS_BIND"] = f"127.0.0.1:{free_port()}"
    ingress = f"http://127.0.0.1:{port}"
    try:
        chromium = ensure_chromium(say)
        ensure_cjk_font()

        async def work(stack: StackProcess) -> None:
            await photograph(stack, ingress, chromium, out, timeout_s)

        await with_stack(time_scale, timeout_s, work)
    except (ScreenshotError, BrowserUnavailable) as error:
        say(f"status screenshots: {error}")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.status_shots", description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the PNGs go")
    parser.add_argument("--time-scale", default="60", help="UPGRADE_TIME_SCALE (default 60)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the scenes")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    return asyncio.run(run(args.out.resolve(), args.time_scale, args.timeout))


if __name__ == "__main__":
    run_and_exit(main)
