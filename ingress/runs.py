"""What the ingress reads about an order's run without asking the worker: whether it exists and
runs (describe), its payment method (the `PaymentMethod` search attribute), and the order it was
started with (the input of the run's first history event).

These are server-side reads: they answer for closed runs and while no worker is polling, unlike a
query. Used to route a notification and to tell a repeated start from a conflicting one.
"""

from dataclasses import dataclass

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from client.upgrades import UpgradeNotFound
from domain.models import workflow_id_for
from workflows import search_attributes as sa


@dataclass(frozen=True)
class RunDescription:
    """What the server says of an order's latest run: whether it runs, how it is paid."""

    running: bool
    payment_method: str | None


async def describe_run(client: Client, order_id: str) -> RunDescription:
    """The latest run of the order's workflow; `UpgradeNotFound` if it was never started."""
    try:
        description = await client.get_workflow_handle(workflow_id_for(order_id)).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise UpgradeNotFound(order_id) from error
        raise
    return RunDescription(
        running=description.status == WorkflowExecutionStatus.RUNNING,
        payment_method=description.typed_search_attributes.get(sa.PAYMENT_METHOD),
    )
