"""What every fault test does around its fault: submit a mixed batch of orders, watch their
stages, wait until each is terminal (naming any that is not, with its stage and last error), run
`starter.py audit` on the batch, and record orders run / completed / lost / duplicated.

Orders are started in-process through `client.upgrades` with the stack's acknowledgement journal,
exactly what `starter.py start` does (without a Python process per order, which on a 2-core
machine would itself be a CPU fault at a high time scale).
"""

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError

from client.ack_journal import AckJournal
from client.upgrades import UpgradeNotFound, start_upgrade, upgrade_status
from domain.models import UpgradeOrder, catalog_price
from domain.stages import Stage
from service.settings import TASK_QUEUE
from tests.support.live_stack import LiveStack

# 2 h of SLA is 12 s here, an alipay deadline 3 s, an advanced-permission propagation 5-6.5 s:
# fast enough for a suite, slow enough that a loaded 2-core machine does not turn its own latency
# into escalations on every run (at 3600x it does; escalations are not losses either way).
TIME_SCALE = 600.0
BATCH_TIMEOUT_S = 300.0
AUDIT_SLACK_S = 120

# (payment method, to plan, add-ons): every method but the multi-day corporate transfer, and every
# kind of change, from `basic`.
SHAPES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("alipay", "premium", ()),
    ("wechat_pay", "basic", ("api.cloud_recording",)),
    ("bank_card", "premium", ("video.fhd_1080p",)),
    ("alipay", "premium", ("ai.conversational_multimodal",)),
    ("wechat_pay", "standard", ()),
    ("bank_card", "standard", ("api.traffic_boost",)),
    ("alipay", "enterprise", ()),
    ("wechat_pay", "premium", ("video.hd_720p",)),
)


def make_order(
    order_id: str, shape: int, *, method: str | None = None, txn: str = "txn"
) -> UpgradeOrder:
    pay, to_plan, features = SHAPES[shape % len(SHAPES)]
    return UpgradeOrder(
        order_id=order_id,
        account_id=f"acct-{order_id}",
        app_id=f"app-{order_id}",
        from_plan="basic",
        to_plan=to_plan,
        features=features,
        payment_method=method or pay,
        transaction_id=f"{txn}-{order_id}",
        amount=catalog_price("basic", to_plan, features),
    )


def make_batch(prefix: str, size: int = 8) -> list[UpgradeOrder]:
    stamp = datetime.now(UTC).strftime("%H%M%S")
    return [make_order(f"F-{prefix}-{stamp}-{n}", n) for n in range(size)]


def journal_of(stack: LiveStack) -> AckJournal:
    return AckJournal.in_dir(stack.data_dir)


async def submit(stack: LiveStack, orders: list[UpgradeOrder]) -> None:
    client = await stack.client()
    journal = journal_of(stack)
    for order in orders:
        result = await start_upgrade(
            client, order, task_queue=TASK_QUEUE, time_scale=stack.time_scale, journal=journal
        )
        assert result.created, f"{order.order_id}: a fresh order found an existing run"


async def statuses(client: Client, order_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each order's live status; an order whose run cannot answer right now maps to {}."""

    async def one(order_id: str) -> dict[str, Any]:
        try:
            status = await asyncio.wait_for(upgrade_status(client, order_id), 10)
            return status.model_dump(mode="json")
        except (UpgradeNotFound, RPCError, TimeoutError):
            return {}

    found = await asyncio.gather(*(one(o) for o in order_ids))
    return dict(zip(order_ids, found, strict=True))


async def wait_until(
    stack: LiveStack,
    order_ids: list[str],
    done: Callable[[dict[str, dict[str, Any]]], bool],
    what: str,
    timeout: float = 120,
) -> dict[str, dict[str, Any]]:
    client = await stack.client()
    deadline = time.monotonic() + timeout
    seen: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        seen = await statuses(client, order_ids)
        if done(seen):
            return seen
        await asyncio.sleep(0.1)
    stages = {o: s.get("stage", "?") for o, s in seen.items()}
    raise AssertionError(f"never saw {what} within {timeout:g}s; stages: {stages}")


def any_in(stage: Stage) -> Callable[[dict[str, dict[str, Any]]], bool]:
    return lambda seen: any(s.get("stage") == stage.value for s in seen.values())


def _is_terminal(status: dict[str, Any]) -> bool:
    return bool(status) and Stage(status["stage"]).is_terminal


def _describe_stuck(order_id: str, status: dict[str, Any]) -> str:
    if not status:
        return f"{order_id}: no status (run not answering queries: no worker?)"
    current = status["stages"][-1] if status["stages"] else {}
    return (
        f"{order_id}: stage {status['stage']}, attempts {current.get('attempts')}, last error "
        f"{current.get('last_error')!r}, regions pending "
        f"{[r['region'] for r in status['regions'] if r['state'] != 'applied']}"
    )


async def wait_terminal(
    stack: LiveStack, orders: list[UpgradeOrder], timeout: float = BATCH_TIMEOUT_S
) -> dict[str, dict[str, Any]]:
    """Every order's final status; fails naming each order that is not terminal, and where."""
    client = await stack.client()
    ids = [o.order_id for o in orders]
    deadline = time.monotonic() + timeout
    seen: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        pending = [o for o in ids if not _is_terminal(seen.get(o, {}))]
        if not pending:
            return seen
        seen |= await statuses(client, pending)
        await asyncio.sleep(0.5)
    stuck = [_describe_stuck(o, seen.get(o, {})) for o in ids if not _is_terminal(seen.get(o, {}))]
    raise AssertionError(f"not terminal after {timeout:g}s:\n  " + "\n  ".join(stuck))


@dataclass
class FaultRecord:
    fault: str
    orders: int
    completed: int
    lost: int
    duplicated: int
    stages: dict[str, int]
    escalations: int
    wall_s: float
    observed: str = ""
    violations: list[str] = field(default_factory=list)


async def audit_batch(stack: LiveStack, since: datetime, prefix: str) -> tuple[int, dict[str, Any]]:
    """`starter.py audit --json --since ... --order-prefix ...` against the stack: its exit code
    and report. Scoped to the batch, so that a previous fault's failure cannot fail this one."""
    result = await stack.run(
        "starter.py", "audit", "--json", "--since", since.isoformat(), "--order-prefix", prefix,
        "--slack", str(AUDIT_SLACK_S), timeout=180,
    )  # fmt: skip
    assert result.code in (0, 1), f"audit could not run ({result.code}): {result.stderr}"
    report: dict[str, Any] = json.loads(result.stdout)
    return result.code, report


def common_prefix(ids: list[str]) -> str:
    first, last = min(ids), max(ids)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


@dataclass
class FaultRun:
    """One fault test's batch: started, waited for, audited, recorded."""

    stack: LiveStack
    name: str
    orders: list[UpgradeOrder]
    records: list[FaultRecord]
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    began: float = field(default_factory=time.monotonic)

    @property
    def ids(self) -> list[str]:
        return [o.order_id for o in self.orders]

    async def finish(self, observed: str = "", expected_orders: int | None = None) -> FaultRecord:
        """Wait for every order, audit, record; fails on any violation, listing them."""
        final = await wait_terminal(self.stack, self.orders)
        prefix = common_prefix(self.ids)
        code, report = await audit_batch(self.stack, self.since, prefix)
        summary = report["summary"]
        violations = [f"{v['order_id']} {v['kind']}: {v['reason']}" for v in report["violations"]]
        record = FaultRecord(
            fault=self.name,
            orders=summary["orders"],
            completed=summary["terminal"],
            lost=summary["lost"],
            duplicated=summary["duplicated"],
            stages=summary["stages"],
            escalations=sum(len(s["escalations"]) for s in final.values()),
            wall_s=round(time.monotonic() - self.began, 1),
            observed=observed,
            violations=violations,
        )
        self.records.append(record)
        assert code == 0 and not violations, "audit found violations:\n  " + "\n  ".join(violations)
        assert summary["orders"] == (expected_orders or len(self.orders)), summary
        return record


def records_table(records: list[FaultRecord]) -> str:
    lines = [
        "| fault | orders | completed | lost | duplicated | escalations | wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in records:
        lines.append(
            f"| {r.fault} | {r.orders} | {r.completed} | {r.lost} | {r.duplicated} "
            f"| {r.escalations} | {r.wall_s:g} |"
        )
    return "\n".join(lines)


def records_json(records: list[FaultRecord]) -> str:
    return json.dumps([asdict(r) for r in records], indent=2)
