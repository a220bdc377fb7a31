"""The event stream and the status page over real HTTP: `python -m ingress` in front of a dev
server, a worker and the sandbox (LiveStack) at 3600x, the stream polling every 0.2 s.

Orders wait in `awaiting_payment` until our notification (corporate transfers with a `pay-never`
transaction), then run to `active` in a few seconds, so one stream sees several changes.
"""

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.stages import FORWARD_STAGES
from ingress import links
from ingress.settings import DEV_STATUS_LINK_SECRET
from tests.ingress.test_ingress_http import BACKEND, notice, notify, order, start
from tests.support.live_stack import LiveStack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

# Bounds how long a broken stream takes to be reported; never decides a verdict.
STREAM_DEADLINE_S = 120.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    live = LiveStack(data_dir=tmp_path_factory.mktemp("events"), time_scale=3600)
    previous = os.environ.get("UPGRADE_EVENTS_POLL_S")
    os.environ["UPGRADE_EVENTS_POLL_S"] = "0.2"  # read by the ingress the stack spawns
    try:
        live.start(ingress=True)
        yield live
    finally:
        live.stop()
        if previous is None:
            os.environ.pop("UPGRADE_EVENTS_POLL_S", None)
        else:
            os.environ["UPGRADE_EVENTS_POLL_S"] = previous


@pytest.fixture
async def http(stack: LiveStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.ingress_url, timeout=30) as client:
        yield client


@dataclass
class Event:
    name: str
    data: Any
    id: str | None


async def events(
    http: httpx.AsyncClient,
    order_id: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    connected: asyncio.Event | None = None,
    stop_after: int | None = None,
) -> tuple[int, list[Event]]:
    """Read the stream until it ends (or `stop_after` status events); its status code and events.
    `connected` is set once the stream's first line (`retry:`) has arrived."""
    received: list[Event] = []

    async def read() -> int:
        url = f"/v1/upgrades/{order_id}/events"
        async with http.stream("GET", url, headers=headers, params=params) as response:
            if response.status_code != 200:
                await response.aread()
                return response.status_code
            assert response.headers["content-type"].startswith("text/event-stream")
            fields: dict[str, str] = {}
            async for line in response.aiter_lines():
                if line.startswith("retry:") and connected is not None:
                    connected.set()
                if line == "":
                    if "event" in fields:
                        received.append(
                            Event(fields["event"], json.loads(fields["data"]), fields.get("id"))
                        )
                        statuses = [e for e in received if e.name == "status"]
                        if stop_after is not None and len(statuses) >= stop_after:
                            return 200
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
            return 200

    code = await asyncio.wait_for(read(), STREAM_DEADLINE_S)
    return code, received


def step(event_id: str | None) -> int:
    assert event_id is not None
    return int(event_id.partition(".")[0])


def forward_index(stage: str) -> int:
    return [s.value for s in FORWARD_STAGES].index(stage)


async def paid_order(http: httpx.AsyncClient, order_id: str) -> None:
    assert (await start(http, order(order_id))).status_code == 201


async def test_every_change_in_order_until_active_then_the_stream_ends(
    http: httpx.AsyncClient,
) -> None:
    order_id = "EVT-ORDER"
    await paid_order(http, order_id)
    connected = asyncio.Event()
    reading = asyncio.create_task(events(http, order_id, headers=BACKEND, connected=connected))
    await asyncio.wait_for(connected.wait(), STREAM_DEADLINE_S)
    assert (await notify(http, notice(order_id))).status_code == 200
    code, received = await reading

    assert code == 200
    statuses = [e for e in received if e.name == "status"]
    assert [e.name for e in received] == ["status"] * len(statuses) + ["end"], received
    # The first is the state at connection, the last the terminal one; the stream saw changes
    # in between, in the saga's order, each with a new id whose step grows.
    assert statuses[0].data["stage"] == "awaiting_payment"
    assert statuses[-1].data["stage"] == "active"
    assert len(statuses) >= 3, [e.data["stage"] for e in statuses]
    stages = [forward_index(e.data["stage"]) for e in statuses]
    assert stages == sorted(stages), [e.data["stage"] for e in statuses]
    steps = [step(e.id) for e in statuses]
    assert steps == sorted(steps) and len({e.id for e in statuses}) == len(statuses)
    # The backend's token sees the whole status.
    assert statuses[-1].data["order_id"] == order_id and len(statuses[-1].data["regions"]) == 8
    assert received[-1].data == {"stage": "active", "reason": "activated in every region"}

    # Resume after the end with the last id: nothing more to say (204 stops EventSource).
    code, again = await events(
        http, order_id, headers=BACKEND | {"Last-Event-ID": statuses[-1].id or ""}
    )
    assert code == 204 and again == []
    # Resume from an old id: the current status at once (it subsumes what was missed), the end.
    code, resumed = await events(
        http, order_id, headers=BACKEND | {"Last-Event-ID": statuses[0].id or ""}
    )
    assert code == 200
    assert [(e.name, e.id) for e in resumed] == [("status", statuses[-1].id), ("end", None)]


async def test_resuming_a_running_stream_skips_what_the_client_has(
    http: httpx.AsyncClient,
) -> None:
    order_id = "EVT-RESUME"
    await paid_order(http, order_id)
    code, first = await events(http, order_id, headers=BACKEND, stop_after=1)
    assert code == 200 and first[0].data["payment"]["status"] == "pending"
    seen = first[0].id or ""
    # Reconnect as EventSource does, with the id it has: the first event is the next change,
    # never the status the client already has.
    connected = asyncio.Event()
    reading = asyncio.create_task(
        events(
            http,
            order_id,
            headers=BACKEND | {"Last-Event-ID": seen},
            connected=connected,
            stop_after=1,
        )
    )
    await asyncio.wait_for(connected.wait(), STREAM_DEADLINE_S)
    assert (await notify(http, notice(order_id))).status_code == 200
    code, resumed = await reading
    assert code == 200
    assert resumed[0].id != seen and step(resumed[0].id) > step(seen)
    assert resumed[0].data["payment"]["notices"] == 1


def link_token(order_id: str) -> str:
    expires = datetime.now(UTC) + timedelta(hours=1)
    return links.make_token(DEV_STATUS_LINK_SECRET, order_id, expires)


async def client_terminate(stack: LiveStack, order_id: str) -> None:
    client = await stack.client()
    await client.get_workflow_handle(f"upgrade-{order_id}").terminate(reason="by hand")


async def test_a_signed_link_follows_the_stage_and_opens_the_page(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "EVT-LINK"
    await paid_order(http, order_id)
    token = link_token(order_id)
    code, first = await events(http, order_id, params={"token": token}, stop_after=1)
    # The customer's view: the stage, nothing of the run's internals.
    assert code == 200 and first[0].data == {"order_id": order_id, "stage": "awaiting_payment"}
    # To its end: the stage, and nothing of why a run stopped.
    await client_terminate(stack, order_id)
    code, rest = await events(http, order_id, params={"token": token})
    assert code == 200
    assert [(e.name, e.data) for e in rest] == [
        ("status", {"order_id": order_id, "stage": "awaiting_payment"}),
        ("end", {"stage": "awaiting_payment"}),
    ]

    page = await http.get(f"/status/{order_id}", params={"token": token})
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "Waiting for your payment to be confirmed" in page.text
    chinese = await http.get(
        f"/status/{order_id}", params={"token": token}, headers={"Accept-Language": "zh-CN"}
    )
    assert "正在等待支付确认" in chinese.text and chinese.headers["content-language"] == "zh-CN"
    # Another order's link opens neither this page nor this stream.
    other = link_token("EVT-OTHER")
    assert (await http.get(f"/status/{order_id}", params={"token": other})).status_code == 403
    code, _ = await events(http, order_id, params={"token": other})
    assert code == 403


async def test_an_unknown_order_is_404(http: httpx.AsyncClient) -> None:
    code, _ = await events(http, "EVT-NOBODY", headers=BACKEND)
    assert code == 404
    page = await http.get("/status/EVT-NOBODY", params={"token": link_token("EVT-NOBODY")})
    assert page.status_code == 404 and "no upgrade for order" in page.text


async def test_the_page_in_a_browser_follows_the_run_until_active(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    """Headless Chromium (only where `make screenshots` can run: Playwright and Debian's
    chromium): the page's script follows the event stream and shows each change by itself."""
    async_api = pytest.importorskip("playwright.async_api")
    from tools.chromium import CHROMIUM, FLAGS

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (make screenshots installs it)")
    order_id = "EVT-BROWSER"
    await paid_order(http, order_id)
    url = f"{stack.ingress_url}/status/{order_id}?token={link_token(order_id)}&lang=en"
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(FLAGS)
        )
        try:
            page = await browser.new_page()
            page.set_default_timeout(STREAM_DEADLINE_S * 1000)
            await page.goto(url)
            await page.get_by_text("Waiting for your payment to be confirmed").wait_for()
            await page.get_by_text("Live: this page updates by itself").wait_for()
            # Nothing but the page's own script reloads it from here.
            assert (await notify(http, notice(order_id))).status_code == 200
            await page.get_by_text("Active: your upgrade is ready").wait_for()
            await page.get_by_text("Final status").wait_for()
        finally:
            await browser.close()


async def test_a_run_closed_by_hand_ends_the_stream_saying_so(
    http: httpx.AsyncClient, stack: LiveStack
) -> None:
    order_id = "EVT-TERMINATED"
    await paid_order(http, order_id)
    connected = asyncio.Event()
    reading = asyncio.create_task(events(http, order_id, headers=BACKEND, connected=connected))
    await asyncio.wait_for(connected.wait(), STREAM_DEADLINE_S)
    client = await stack.client()
    await client.get_workflow_handle(f"upgrade-{order_id}").terminate(reason="by hand")
    code, received = await reading
    assert code == 200
    assert [e.name for e in received] == ["status", "end"], received
    assert received[-1].data["stage"] == "awaiting_payment"
    assert "closed in stage awaiting_payment without finishing" in received[-1].data["reason"]
