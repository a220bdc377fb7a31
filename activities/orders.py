"""Order system activity: reconcile the order with the account, the app and the payment."""

from typing import TYPE_CHECKING

from temporalio import activity

from activities.contract import parse, path
from domain.steps import Activity, ReconcileInput, ReconcileResult

if TYPE_CHECKING:
    from activities.http import PlatformClient


class OrderActivities:
    def __init__(self, client: "PlatformClient") -> None:
        self._platform = client

    @activity.defn(name=Activity.RECONCILE_ORDER)
    async def reconcile_order(self, inp: ReconcileInput) -> ReconcileResult:
        """Match order, account, app and transaction, and claim the transaction for the order.

        A disagreement raises a non-retryable `ReconciliationMismatch` whose message and details
        name the field (`from_plan`, `app_id`, `transaction_id`): a person must look, retrying
        cannot fix data. The amount check (paid = order = catalog price) is the workflow's, from
        the payment result it already holds.
        """
        route = path("/v1/orders/{}/reconcile", inp.order_id)
        body: dict[str, object] = {
            "account_id": inp.account_id,
            "app_id": inp.app_id,
            "from_plan": inp.from_plan,
            "transaction_id": inp.transaction_id,
        }
        if inp.overrides:  # checks an operator approved past; sent only when there are some
            body["overrides"] = list(inp.overrides)
        data = await self._platform.post(route, body, inp.idempotency_key)
        result = parse(ReconcileResult, data, route)
        activity.logger.info("order %s: reconciled", inp.order_id)
        return result
