"""The dev stack's demo batch: the orders of `demo_orders.json`, started through `starter.py` on a
fresh database, and the one order it cancels while it propagates.

Role: write one order file per demo order, run `starter.py start --order-file F --json` for each
(one line per order, a failed start reported and skipped), then watch `DEMO_CANCELLED` until its
(lagging) config is propagating and cancel it, so that the demo shows a run unwinding its
compensations (rollback, billing revert, refund) in reverse order. Boundary: it drives the stack
only as an operator would, through `starter.py`; it holds no business logic.
"""

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from domain.models import UpgradeOrder

ROOT = Path(__file__).resolve().parent.parent
DEMO_ORDERS = Path(__file__).with_name("demo_orders.json")
STARTER_TIMEOUT_S = 60.0
DEMO_CANCELLED = "DEMO-CANCEL-1"
DEMO_CANCEL_PATIENCE_S = 300.0


def load_demo_orders() -> list[dict[str, Any]]:
    """The demo batch as raw JSON objects, one per order."""
    orders: list[dict[str, Any]] = json.loads(DEMO_ORDERS.read_text("utf-8"))
    return orders


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


async def run_starter(env: Mapping[str, str], *args: str) -> tuple[int, str, str]:
    """`starter.py ARGS`, as an operator runs it: exit code, standard output, last error line."""
    starter = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "starter.py"), *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=dict(env), cwd=ROOT, process_group=0,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(starter.communicate(), STARTER_TIMEOUT_S)
    except TimeoutError:
        starter.kill()
        await starter.wait()
        raise
    reason = (err.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
    return starter.returncode or 0, out.decode(errors="replace"), reason


async def submit_demo(
    env: Mapping[str, str], demo_dir: Path, check: Callable[[], None], say: Callable[[str], None]
) -> None:
    """Start each demo order with `starter.py`, one line per order; a failed start is reported.
    `check` raises to give up between two orders (the stack is stopping)."""
    for order, order_file in write_demo_files(demo_dir):
        check()
        try:
            code, out, reason = await run_starter(
                env, "start", "--order-file", str(order_file), "--json"
            )
        except TimeoutError:
            say(f"demo: {order.order_id} not started: starter.py timed out")
            continue
        if code != 0:
            say(f"demo: {order.order_id} not started (exit {code}): {reason}")
            continue
        workflow_id = order.workflow_id
        with contextlib.suppress(ValueError, TypeError, LookupError):  # not our JSON: keep ours
            workflow_id = json.loads(out)["workflow_id"]
        say(f"demo: started {workflow_id}  [{order.summary}]")


async def cancel_demo_order(env: Mapping[str, str], say: Callable[[str], None]) -> None:
    deadline = time.monotonic() + DEMO_CANCEL_PATIENCE_S
    while time.monotonic() < deadline:
        try:
            code, out, _ = await run_starter(env, "status", DEMO_CANCELLED, "--json")
        except TimeoutError:
            code, out = 1, ""
        stage = json.loads(out).get("stage") if code == 0 else None
        if stage == "propagating":
            try:
                code, _, _ = await run_starter(
                    env,
                    "cancel",
                    DEMO_CANCELLED,
                    "--reason",
                    "demo: the customer changed their mind",
                )
            except TimeoutError:
                code = 1
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
