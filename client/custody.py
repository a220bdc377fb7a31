"""The client side of payment custody: hand a payment nobody can apply to its custody workflow
(update-with-start, so the call returns only once the workflow holds it durably), read a
custody's status, list custodies.

Used by the ingress before it answers a channel, and by operators (`starter.py`-style callers and
tests). A custody that has already closed (refunded or applied) is not started again: the
re-delivery is answered with its final state.
"""

import asyncio
from datetime import UTC, datetime

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from client.errors import MessageRejected, MessageTimeout
from domain.custody import (
    CustodyStatus,
    HeldPayment,
    HoldAck,
    build_custody_input,
    custody_id,
)
from domain.models import PaymentMethod
from workflows.custody import PaymentCustody, start_attributes

__all__ = ["CustodyNotFound", "custody_status", "hold_payment", "list_custodies"]


class CustodyNotFound(LookupError):
    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"no custody {workflow_id!r}")
        self.workflow_id = workflow_id


async def hold_payment(
    client: Client,
    channel: PaymentMethod,
    held: HeldPayment,
    *,
    task_queue: str,
    time_scale: float = 1.0,
    now: datetime | None = None,
    timeout_s: float | None = None,
) -> HoldAck:
    """Start the transaction's custody (or reach the running one) and have it record `held`.

    Returns once the custody's `hold` update completed: the payment is in its history. A custody
    that has closed answers with its final state (`duplicate`).
    """
    inp = build_custody_input(channel, held, now or datetime.now(UTC), time_scale)
    workflow_id = custody_id(channel, held.notice.transaction_id)
    start = WithStartWorkflowOperation(
        PaymentCustody.run,
        inp,
        id=workflow_id,
        task_queue=task_queue,
        # A running custody takes the re-delivery; a closed one is never started again (that
        # would refund, or hold, the same money twice).
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=start_attributes(inp),
        static_summary=(
            f"held: {held.notice.amount} {held.notice.currency} via {channel.value}, "
            f"order {held.notice.order_id}"
        ),
    )
    try:
        ack: HoldAck = await asyncio.wait_for(
            client.execute_update_with_start_workflow(
                PaymentCustody.hold, held, start_workflow_operation=start
            ),
            timeout_s,
        )
        return ack
    except WorkflowAlreadyStartedError:
        return await _closed_answer(client, workflow_id)
    except WorkflowUpdateFailedError as failed:
        cause = failed.cause
        if isinstance(cause, ApplicationError) and cause.type == "InvalidMessage":
            field = str(cause.details[0]) if cause.details else "transaction_id"
            raise MessageRejected(field, cause.message) from failed
        raise
    except RPCError as err:
        # The update of a custody that closed between the start and the update.
        if err.status == RPCStatusCode.NOT_FOUND:
            return await _closed_answer(client, workflow_id)
        raise
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        raise MessageTimeout(held.notice.order_id, timeout_s) from err


async def _closed_answer(client: Client, workflow_id: str) -> HoldAck:
    status = await custody_status(client, workflow_id)
    return HoldAck(
        result="duplicate", custody_id=workflow_id, state=status.state, detail=status.detail
    )


async def custody_status(client: Client, workflow_id: str) -> CustodyStatus:
    """The custody's live status (a query; closed custodies answer it too)."""
    handle = client.get_workflow_handle_for(PaymentCustody.run, workflow_id)
    try:
        return await handle.query(PaymentCustody.status)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise CustodyNotFound(workflow_id) from err
        raise


async def list_custodies(client: Client, query: str | None = None, limit: int = 100) -> list[str]:
    """Custody workflow ids matching a visibility query (e.g. `CustodyState = 'holding'`)."""
    full = "WorkflowType = 'payment-custody'" + (f" AND ({query})" if query else "")
    return [wf.id async for wf in client.list_workflows(full, limit=limit)]
