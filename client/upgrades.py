"""The client side of the saga: start an upgrade, read its status, send it messages, list runs.

One implementation for every caller (the `starter.py` CLI, the stack's demo batch, the tests, and
the HTTP ingress later), so that idempotent starts and the mapping of Temporal errors to "invalid
input" / "not found" are decided once. Callers that answer a client pass an `AckJournal`: every
acknowledgement is then recorded for `starter.py audit` before it is returned.

Over ~300 lines on purpose: start, status, messages and listing share the one mapping of
Temporal's errors, and each caller imports one module for the whole run's life.
"""

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from channels.reference import payment_reference
from client.ack_journal import AckJournal, AckKind
from client.errors import MessageRejected, MessageTimeout, UpgradeNotFound
from client.payment_orders import transaction_key
from domain.models import (
    CancelRequest,
    MessageAck,
    PaymentMethod,
    PaymentNotice,
    Resolution,
    UpgradeOrder,
    workflow_id_for,
)
from domain.stages import Stage
from domain.status import UpgradeStatus
from domain.upgrade_input import build_upgrade_input
from workflows import search_attributes as sa
from workflows.upgrade import INVALID_MESSAGE, WORKFLOW_NAME, UpgradeActivation

# The errors are part of this module's interface (`upgrades.UpgradeNotFound`, ...).
__all__ = [
    "DEFAULT_LIST_QUERY",
    "MessageRejected",
    "MessageTimeout",
    "StartResult",
    "UpgradeListing",
    "UpgradeNotFound",
    "cancel",
    "confirm_payment",
    "list_upgrades",
    "resolve",
    "start_upgrade",
    "upgrade_status",
    "wait_result",
]


@dataclass(frozen=True)
class StartResult:
    workflow_id: str
    run_id: str
    created: bool


@dataclass(frozen=True)
class UpgradeListing:
    workflow_id: str
    run_id: str
    status: str
    stage: str | None
    escalated: bool | None
    target_plan: str | None
    payment_method: str | None
    started_at: datetime | None
    closed_at: datetime | None


def _start_attributes(order: UpgradeOrder) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [
            SearchAttributePair(sa.UPGRADE_STAGE, Stage.AWAITING_PAYMENT.value),
            SearchAttributePair(sa.PAYMENT_METHOD, order.payment_method.value),
            SearchAttributePair(sa.TARGET_PLAN, order.to_plan),
            SearchAttributePair(sa.ESCALATED, False),
            # How the channels' doors find the run from a notice's out_trade_no (a digest: the
            # transaction id itself is personal data and search attributes are never encrypted).
            SearchAttributePair(sa.TRANSACTION_KEY, transaction_key(order.transaction_id)),
        ]
    )


async def start_upgrade(
    client: Client,
    order: UpgradeOrder,
    *,
    task_queue: str,
    time_scale: float = 1.0,
    now: datetime | None = None,
    journal: AckJournal | None = None,
) -> StartResult:
    """Start the order's run, or report the one it already has (running or closed): never two.

    With a `journal`, the answer is recorded there before it is returned (see `audit.checks`).
    """
    upgrade_input = build_upgrade_input(order, now or datetime.now(UTC), time_scale)
    try:
        handle = await client.start_workflow(
            UpgradeActivation.run,
            upgrade_input,
            id=order.workflow_id,
            task_queue=task_queue,
            # A running run is returned as is; a closed one is never replaced by a second run.
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=_start_attributes(order),
            static_summary=order.summary,
            static_details=(
                f"order `{order.order_id}`, {order.amount} {order.currency}, "
                f"changes: {', '.join(order.change_kinds)}, time scale {time_scale:g}"
            ),
        )
    except WorkflowAlreadyStartedError as already:
        run_id = already.run_id or ""
        result = StartResult(workflow_id=order.workflow_id, run_id=run_id, created=False)
    else:
        # The server says whether this call started the run or found it running (USE_EXISTING).
        response = getattr(handle, "_start_workflow_response", None)
        created = bool(getattr(response, "started", True))
        result = StartResult(
            workflow_id=order.workflow_id, run_id=handle.result_run_id or "", created=created
        )
    if journal is not None:
        journal.record(
            "start",
            order.order_id,
            result.workflow_id,
            "created" if result.created else "existing",
            run_id=result.run_id,
        )
    return result


def _handle(client: Client, order_id: str) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle(workflow_id_for(order_id))


def _not_found(err: RPCError) -> bool:
    return err.status == RPCStatusCode.NOT_FOUND


def with_reference(status: UpgradeStatus) -> UpgradeStatus:
    """`status` with the corporate transfer's `payment_reference` (derived from the order id)."""
    if status.payment_method != PaymentMethod.CORPORATE_TRANSFER.value:
        return status
    return status.model_copy(update={"payment_reference": payment_reference(status.order_id)})


async def upgrade_status(client: Client, order_id: str) -> UpgradeStatus:
    """Live status from the run itself (a query), never from a cache or the visibility store."""
    try:
        handle = client.get_workflow_handle_for(UpgradeActivation.run, workflow_id_for(order_id))
        return with_reference(await handle.query(UpgradeActivation.status))
    except RPCError as err:
        if _not_found(err):
            raise UpgradeNotFound(order_id) from err
        raise


async def _update(
    client: Client,
    order_id: str,
    update: Any,
    arg: Any,
    kind: AckKind,
    journal: AckJournal | None,
    timeout_s: float | None,
) -> MessageAck:
    handle = _handle(client, order_id)
    try:
        # Without a worker the server holds an update unaccepted, and the SDK waits for it
        # without end: a caller that must answer someone gives a limit.
        ack: MessageAck = await asyncio.wait_for(
            handle.execute_update(update, arg, result_type=MessageAck), timeout_s
        )
        if journal is not None:
            journal.record(
                kind,
                order_id,
                handle.id,
                ack.result,
                run_id=handle.run_id or "",
                stage=ack.stage,
                detail=ack.detail,
            )
        return ack
    except WorkflowUpdateFailedError as failed:
        cause = failed.cause
        if isinstance(cause, ApplicationError) and cause.type == INVALID_MESSAGE:
            field = str(cause.details[0]) if cause.details else "message"
            raise MessageRejected(field, cause.message) from failed
        raise
    except RPCError as err:
        if _not_found(err):
            await _raise_if_ended(handle, order_id)
            raise UpgradeNotFound(order_id) from err
        raise
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        # wait_for cancels the SDK's update call, which reports it as its own timeout error.
        raise MessageTimeout(order_id, timeout_s) from err


async def _raise_if_ended(handle: WorkflowHandle[Any, Any], order_id: str) -> None:
    """An update to a closed run is answered "not found" by the server: say it has ended, as the
    run itself does for a message that arrives after its terminal stage."""
    try:
        described = await handle.describe()
    except RPCError:
        return
    status = described.status.name.lower() if described.status else "closed"
    raise MessageRejected(
        "order_id", f"order_id: the upgrade of order {order_id} has ended (run {status})"
    )


async def confirm_payment(
    client: Client,
    notice: PaymentNotice,
    *,
    journal: AckJournal | None = None,
    timeout_s: float | None = None,
) -> MessageAck:
    return await _update(
        client,
        notice.order_id,
        UpgradeActivation.confirm_payment,
        notice,
        "notice",
        journal,
        timeout_s,
    )


async def resolve(
    client: Client,
    order_id: str,
    resolution: Resolution,
    *,
    journal: AckJournal | None = None,
    timeout_s: float | None = None,
) -> MessageAck:
    """Send an operator decision, bound to the problem it answers (`bound_to_waiting`)."""
    resolution = await bound_to_waiting(client, order_id, resolution, timeout_s)
    return await _update(
        client, order_id, UpgradeActivation.resolve, resolution, "resolve", journal, timeout_s
    )


# How long `bound_to_waiting` looks at the run's status before sending the decision unbound.
_BINDING_LOOK_S = 5.0


async def bound_to_waiting(
    client: Client, order_id: str, resolution: Resolution, timeout_s: float | None = None
) -> Resolution:
    """The decision with the `attention_id` of the problem waiting now (read from the run's
    status) when it names none: sent once, or re-sent by this caller after a timeout, it can then
    never be applied to a later, different problem (the run answers the repeat `duplicate`)."""
    if resolution.attention_id is not None:
        return resolution
    # A run not found, or not answering in time, is reported by the update itself; the run then
    # binds the decision to the problem waiting when it arrives. The look is short: without a
    # worker a query waits as long as the server lets it, and the update still needs its time.
    within = min(timeout_s, _BINDING_LOOK_S) if timeout_s is not None else _BINDING_LOOK_S
    with contextlib.suppress(UpgradeNotFound, RPCError, TimeoutError):
        status = await asyncio.wait_for(upgrade_status(client, order_id), within)
        if status.attention_id is not None:
            return resolution.model_copy(update={"attention_id": status.attention_id})
    return resolution


async def cancel(
    client: Client,
    order_id: str,
    request: CancelRequest,
    *,
    journal: AckJournal | None = None,
    timeout_s: float | None = None,
) -> MessageAck:
    return await _update(
        client, order_id, UpgradeActivation.cancel, request, "cancel", journal, timeout_s
    )


DEFAULT_LIST_QUERY = f"WorkflowType = '{WORKFLOW_NAME}'"


async def list_upgrades(
    client: Client, query: str | None = None, limit: int = 100
) -> list[UpgradeListing]:
    """Runs matching a visibility query (always narrowed to our workflow type)."""
    full = DEFAULT_LIST_QUERY + (f" AND ({query})" if query else "")
    rows: list[UpgradeListing] = []
    async for wf in client.list_workflows(full, limit=limit):
        attrs = wf.typed_search_attributes
        rows.append(
            UpgradeListing(
                workflow_id=wf.id,
                run_id=wf.run_id,
                status=wf.status.name.lower() if wf.status else "unknown",
                stage=attrs.get(sa.UPGRADE_STAGE),
                escalated=attrs.get(sa.ESCALATED),
                target_plan=attrs.get(sa.TARGET_PLAN),
                payment_method=attrs.get(sa.PAYMENT_METHOD),
                started_at=wf.start_time,
                closed_at=wf.close_time,
            )
        )
    return rows


async def wait_result(client: Client, order_id: str) -> UpgradeStatus:
    """Wait for the run to end and return its final status."""
    handle = client.get_workflow_handle_for(UpgradeActivation.run, workflow_id_for(order_id))
    try:
        return with_reference(await handle.result())
    except RPCError as err:
        if _not_found(err):
            raise UpgradeNotFound(order_id) from err
        raise
