"""The pictures `make screenshots` takes of the Temporal Web UI, and how one is taken.

Role: the list of shots (saved-query lists and run pages of the demo's orders, each with the text
that shows its data has arrived), and taking them in headless Chromium through Playwright with the
Web UI's settings an operator would choose (our search attributes as columns, UTC times). Each
PNG is checked against a size limit. Boundary: the browser side of `tools.screenshots`, which runs
the stack and waits for the scenes.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from temporalio.client import Client

from domain.models import workflow_id_for
from domain.steps import Activity
from tools.chromium import FLAGS

VIEWPORT = {"width": 1600, "height": 1000}
MAX_PNG_BYTES = 500_000
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
            Activity.REFUND_PAYMENT,  # the timeline shows the activity by its type name
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
