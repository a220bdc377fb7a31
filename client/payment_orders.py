"""Finding orders by their payment: the run of an `out_trade_no`, the open corporate transfers.

A payment channel notifies with our payment reference (`out_trade_no`, the order's
`transaction_id`), not with the order id; a bank statement names an order by its reference code
only. Both are answered from Temporal's visibility store and the runs' own histories, so the
ingress keeps no index of its own and any number of copies can serve:

- `orders_paid_by(client, transaction_id)`: the orders whose run was started with that
  transaction id, found by the `TransactionKey` search attribute set at start by
  `client.upgrades`: `transaction_key(transaction_id)`, a SHA-256 digest, because the
  transaction id is personal data and search attributes are stored and listed unencrypted;
- `open_transfers(client)`: the corporate-transfer orders whose run still waits for its money,
  with their reference codes (`channels.reference.payment_reference`).

Visibility is eventually consistent (about a second on a production cluster): a run started a
moment ago may not be listed yet. Callers treat "not found" as "not yet" and let the channel
re-send (the doors), or keep the line for a person (statements).

Boundary: reads only; never starts, signals or updates a run.
"""

import hashlib
import re

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from channels.matching import OpenOrder
from channels.reference import payment_reference
from client.errors import UpgradeNotFound
from domain.models import PaymentMethod, UpgradeOrder, workflow_id_for
from domain.stages import Stage
from domain.upgrade_input import UpgradeInput
from workflows import search_attributes as sa
from workflows.upgrade import WORKFLOW_NAME

# The alphabet of `domain.models.Identifier`: a reference outside it is no order's, and is
# never put into a visibility query.
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
# A bound on one listing: more open transfers than this is not a demo, and a statement import
# says so instead of matching against a partial list.
MAX_OPEN_TRANSFERS = 10_000


_KEY_DOMAIN = b"upgrade-activation/transaction-key/v1\x00"


def transaction_key(transaction_id: str) -> str:
    """The search-attribute pseudonym of a transaction id: `tk1-` and 32 hex digits of SHA-256."""
    digest = hashlib.sha256(_KEY_DOMAIN + transaction_id.encode("utf-8")).hexdigest()
    return f"tk1-{digest[:32]}"


class TooManyOpenTransfers(RuntimeError):
    """More open corporate transfers than one import reads; nothing was matched."""


async def started_order(client: Client, order_id: str) -> UpgradeOrder:
    """The order the latest run of `order_id` was started with (its first history event)."""
    handle = client.get_workflow_handle(workflow_id_for(order_id))
    try:
        async for event in handle.fetch_history_events(page_size=1):
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            [upgrade_input] = await client.data_converter.decode(payloads, [UpgradeInput])
            assert isinstance(upgrade_input, UpgradeInput)
            return upgrade_input.order
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise UpgradeNotFound(order_id) from error
        raise
    raise UpgradeNotFound(order_id)


def _order_id(workflow_id: str) -> str:
    return workflow_id.removeprefix(workflow_id_for(""))


async def orders_paid_by(client: Client, transaction_id: str) -> list[UpgradeOrder]:
    """Every order whose run was started with `transaction_id` (usually one; none if unknown)."""
    if not _IDENTIFIER.fullmatch(transaction_id):
        return []
    key = transaction_key(transaction_id)
    query = f"WorkflowType = '{WORKFLOW_NAME}' AND {sa.TRANSACTION_KEY.name} = '{key}'"
    order_ids: list[str] = []
    async for listed in client.list_workflows(query, limit=20):
        # A continued run is listed once per run: one order per workflow id.
        order_id = _order_id(listed.id)
        if order_id not in order_ids:
            order_ids.append(order_id)
    orders = [await started_order(client, order_id) for order_id in order_ids]
    # The history is the truth; the attribute only found the run.
    return [order for order in orders if order.transaction_id == transaction_id]


async def open_transfers(client: Client) -> list[UpgradeOrder]:
    """Corporate-transfer orders whose run is running and still awaits its payment."""
    query = (
        f"WorkflowType = '{WORKFLOW_NAME}' AND ExecutionStatus = 'Running' "
        f"AND {sa.PAYMENT_METHOD.name} = '{PaymentMethod.CORPORATE_TRANSFER.value}' "
        f"AND {sa.UPGRADE_STAGE.name} = '{Stage.AWAITING_PAYMENT.value}'"
    )
    order_ids: list[str] = []
    async for listed in client.list_workflows(query, limit=MAX_OPEN_TRANSFERS + 1):
        if listed.status != WorkflowExecutionStatus.RUNNING:
            continue
        order_id = _order_id(listed.id)
        if order_id not in order_ids:
            order_ids.append(order_id)
    if len(order_ids) > MAX_OPEN_TRANSFERS:
        raise TooManyOpenTransfers(
            f"more than {MAX_OPEN_TRANSFERS} corporate transfers await their payment; "
            "import statements more often or raise MAX_OPEN_TRANSFERS"
        )
    orders: list[UpgradeOrder] = []
    for order_id in order_ids:
        try:
            orders.append(await started_order(client, order_id))
        except UpgradeNotFound:
            continue  # deleted between the listing and the read (retention): not open
    return orders


def as_open_order(order: UpgradeOrder) -> OpenOrder:
    """What statement matching needs of an order: its reference code and its money."""
    return OpenOrder(
        order_id=order.order_id,
        reference=payment_reference(order.order_id),
        amount=order.amount,
        currency=order.currency,
    )
