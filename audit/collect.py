"""Gathers the audit's facts from the three places that hold them.

- the acknowledgement journal (`$UPGRADE_DATA_DIR/acks.jsonl`, see `client.ack_journal`);
- the platform's effects ledger (`GET /v1/sandbox/ledger` on the sandbox) and the channel's
  money per transaction (`GET /v1/sandbox/money`), with the custodies still holding one;
- Temporal: every run of `upgrade-activation` (a visibility list to find them, then `describe`
  for the authoritative status and search attributes, and the history for the input, the final
  status and any workflow task failure). The visibility store may lag a just-started run, so
  every order the journal names is also looked up by workflow id;
- the platform's state of every account and app those runs touched (`audit.collect_platform`).

Boundary: I/O only; the verdict is `audit.checks`'s.
"""

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from audit.collect_platform import collect_platform
from audit.facts import AuditFacts, LedgerEntry, RunFacts
from audit.money_facts import MoneyFacts, TransactionMoney
from client.ack_journal import read_acks
from domain.custody import custody_id
from domain.models import PaymentMethod
from domain.moments import query_time
from domain.status import UpgradeStatus
from domain.upgrade_input import UpgradeInput
from workflows import search_attributes as sa
from workflows.upgrade import WORKFLOW_NAME

WORKFLOW_ID_PREFIX = "upgrade-"
# Histories fetched at once: enough to be quick, few enough not to load a small server.
_CONCURRENCY = 8


class CollectError(Exception):
    """A source could not be read; the message names it."""


async def _sandbox_json(platform_url: str, path: str, what: str, timeout_s: float) -> Any:
    """GET one of the sandbox's read endpoints; a failure names the source (`what`) and where."""
    try:
        async with httpx.AsyncClient(base_url=platform_url, timeout=timeout_s) as http:
            response = await http.get(path)
    except httpx.TransportError as err:
        raise CollectError(
            f"sandbox {what} not reachable at {platform_url}: {err or type(err).__name__}"
        ) from err
    if response.is_error:
        raise CollectError(f"sandbox {what} at {platform_url}: HTTP {response.status_code}")
    return response.json()


async def fetch_ledger(platform_url: str, timeout_s: float = 30.0) -> list[LedgerEntry]:
    entries = await _sandbox_json(platform_url, "/v1/sandbox/ledger", "ledger", timeout_s)
    return [LedgerEntry.model_validate(entry) for entry in entries]


async def fetch_money(platform_url: str, timeout_s: float = 30.0) -> list[TransactionMoney]:
    rows = await _sandbox_json(platform_url, "/v1/sandbox/money", "money", timeout_s)
    return [TransactionMoney.model_validate(row) for row in rows]


async def _held(client: Client, transactions: Iterable[TransactionMoney]) -> frozenset[str]:
    """The transactions whose custody is still running (asked by id: no visibility lag)."""
    limit = asyncio.Semaphore(_CONCURRENCY)

    async def running(t: TransactionMoney) -> str | None:
        try:
            channel = PaymentMethod(t.method)
        except ValueError:
            return None
        async with limit:
            try:
                described = await client.get_workflow_handle(
                    custody_id(channel, t.transaction_id)
                ).describe()
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    return None
                raise
        if described.status == WorkflowExecutionStatus.RUNNING:
            return t.transaction_id
        return None

    # Only a payment not yet given back in full can still be held.
    candidates = [t for t in transactions if t.refunded < max(t.captured, t.amount)]
    found = await asyncio.gather(*(running(t) for t in candidates))
    return frozenset(txn for txn in found if txn is not None)


async def _existing(client: Client, workflow_ids: Iterable[str]) -> frozenset[str]:
    """Those of `workflow_ids` Temporal has (any status)."""
    limit = asyncio.Semaphore(_CONCURRENCY)

    async def exists(workflow_id: str) -> str | None:
        async with limit:
            try:
                await client.get_workflow_handle(workflow_id).describe()
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    return None
                raise
        return workflow_id

    found = await asyncio.gather(*(exists(wid) for wid in set(workflow_ids)))
    return frozenset(wid for wid in found if wid is not None)


async def _list_runs(client: Client, since: datetime | None) -> set[tuple[str, str]]:
    query = f"WorkflowType = '{WORKFLOW_NAME}'"
    if since is not None:
        query += f" AND (StartTime >= '{query_time(since)}' OR CloseTime >= '{query_time(since)}')"
    return {(wf.id, wf.run_id) async for wf in client.list_workflows(query)}


async def _runs_of(client: Client, workflow_id: str) -> set[tuple[str, str]]:
    query = f"WorkflowType = '{WORKFLOW_NAME}' AND WorkflowId = '{workflow_id}'"
    found = {(wf.id, wf.run_id) async for wf in client.list_workflows(query)}
    if not found:
        # Not in the visibility store yet: the latest run, straight from the execution.
        try:
            described = await client.get_workflow_handle(workflow_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return set()
            raise
        found = {(workflow_id, described.run_id)}
    return found


# A task that tried to complete while a new event (here a lease signal) arrived: the server refuses
# it by design and the worker runs the task again with the new event. Not a bug, not a failure.
_BENIGN_TASK_FAILURES = frozenset(
    {WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND}
)


def _pending(description: WorkflowExecutionDescription) -> str:
    activities = description.raw_description.pending_activities
    parts = []
    for act in activities:
        failure = act.last_failure.message if act.HasField("last_failure") else ""
        parts.append(
            f"{act.activity_type.name} attempt {act.attempt}" + (f": {failure}" if failure else "")
        )
    return "; ".join(parts)


def _failure_cause(cause: WorkflowTaskFailedCause.ValueType) -> str:
    try:
        return WorkflowTaskFailedCause.Name(cause).removeprefix("WORKFLOW_TASK_FAILED_CAUSE_")
    except ValueError:
        return str(cause)


def task_failure(event: HistoryEvent) -> list[str]:
    """A failed workflow task as the audit reports it; none for a benign one."""
    failed = event.workflow_task_failed_event_attributes
    if failed.cause in _BENIGN_TASK_FAILURES:
        return []
    text = f"{_failure_cause(failed.cause)}: {failed.failure.message}"[:300]
    return [text + f" (event {event.event_id})"]


async def _run_facts(client: Client, workflow_id: str, run_id: str) -> RunFacts:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    description = await handle.describe()
    history = await handle.fetch_history()
    converter = client.data_converter
    upgrade_input: UpgradeInput | None = None
    chain_id = run_id
    final: UpgradeStatus | None = None
    failures: list[str] = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            started = event.workflow_execution_started_event_attributes
            chain_id = started.first_execution_run_id or run_id
            [upgrade_input] = await converter.decode(started.input.payloads, [UpgradeInput])
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failures += task_failure(event)
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            payloads = event.workflow_execution_completed_event_attributes.result.payloads
            [final] = await converter.decode(payloads, [UpgradeStatus])
    attrs = description.typed_search_attributes
    status = description.status.name.lower() if description.status else "unknown"
    order_id = (
        upgrade_input.order.order_id
        if upgrade_input
        else workflow_id.removeprefix(WORKFLOW_ID_PREFIX)
    )
    carry = upgrade_input.carry if upgrade_input else None
    started_at = description.start_time
    return RunFacts(
        order_id=order_id,
        workflow_id=workflow_id,
        run_id=run_id,
        chain_id=chain_id,
        status=status,
        started_at=started_at,
        chain_started_at=carry.started_at if carry else started_at,
        closed_at=description.close_time,
        stage=final.stage.value if final else attrs.get(sa.UPGRADE_STAGE),
        payment_status=final.payment.status if final else None,
        escalated=bool(final.escalated if final else attrs.get(sa.ESCALATED)),
        activation_deadline=(
            final.activation_deadline if final else attrs.get(sa.ACTIVATION_DEADLINE)
        ),
        policy=upgrade_input.policy if upgrade_input else None,
        task_failures=tuple(failures),
        pending=_pending(description) if status == "running" else "",
        account_id=upgrade_input.order.account_id if upgrade_input else None,
        app_id=upgrade_input.order.app_id if upgrade_input else None,
        to_plan=upgrade_input.order.to_plan if upgrade_input else None,
        features=upgrade_input.order.features if upgrade_input else (),
    )


async def collect_runs(
    client: Client, since: datetime | None, order_ids: Iterable[str] = ()
) -> list[RunFacts]:
    found = await _list_runs(client, since)
    listed = {wid for wid, _ in found}
    for order_id in set(order_ids):
        workflow_id = WORKFLOW_ID_PREFIX + order_id
        if workflow_id not in listed:
            found |= await _runs_of(client, workflow_id)
    limit = asyncio.Semaphore(_CONCURRENCY)

    async def one(workflow_id: str, run_id: str) -> RunFacts:
        async with limit:
            return await _run_facts(client, workflow_id, run_id)

    return list(await asyncio.gather(*(one(wid, rid) for wid, rid in sorted(found))))


async def collect(
    client: Client,
    *,
    platform_url: str,
    journal: Path,
    since: datetime | None = None,
    now: datetime | None = None,
) -> AuditFacts:
    """All three views. `now` is read before anything else, so nothing is judged late because
    the collection itself took time."""
    now = now or datetime.now(UTC)
    acks, torn = read_acks(journal)
    if since is not None:
        acks = [a for a in acks if a.at >= since]
    ledger = await fetch_ledger(platform_url)
    transactions = await fetch_money(platform_url)
    # Every order a payment names is looked up too: its money is judged by its run.
    paid = {t.claimed_by or t.order_id for t in transactions}
    named = {a.order_id for a in acks if a.kind != "held"}
    runs = await collect_runs(client, since, named | paid)
    money = MoneyFacts(
        transactions=tuple(transactions),
        held=await _held(client, transactions),
        custodies=await _existing(client, (a.workflow_id for a in acks if a.kind == "held")),
    )

    async def find_runs(order_id: str) -> list[RunFacts]:
        found = await _runs_of(client, WORKFLOW_ID_PREFIX + order_id)
        return [await _run_facts(client, wid, rid) for wid, rid in sorted(found)]

    try:
        platform = await collect_platform(platform_url, runs, ledger, find_runs)
    except httpx.HTTPError as err:
        raise CollectError(
            f"platform state not readable at {platform_url}: {err or type(err).__name__}"
        ) from err
    return AuditFacts(
        now=now,
        acks=tuple(acks),
        ledger=tuple(ledger),
        runs=tuple(runs),
        torn_acks=torn,
        platform=platform,
        money=money,
    )
