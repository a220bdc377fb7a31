"""Stage `reconciling`: first hold the account (one order of an account at a time, in payment
order: `workflows.lease`), then the paid amount and currency, the order and the catalog price
must agree (checked here), then the platform matches order, payment and account
(`reconcile_order`).

- activities: `request_account_lease` (then wait for the grant); amount / currency / catalog price
  checked in the workflow; `reconcile_order`
- compensation: none
- timeout / retry: forward: 30 s per call, 5 tries, then a durable back-off and again, forever
- non-retryable errors: `ReconciliationMismatch` → `needs_attention` (approve, retry, reject)
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import OrderActivities
    from domain import steps
    from domain.errors import ErrorType
    from domain.stages import Stage

from workflows.calls import forward
from workflows.decisions import decided
from workflows.exits import Refusal
from workflows.lease import hold_account
from workflows.state import RunState
from workflows.visibility import enter

STAGE = Stage.RECONCILING


async def run(state: RunState) -> None:
    enter(state, STAGE)
    order = state.order
    # From here to the end of the run, no other order of the account acts (`workflows.lease`).
    await hold_account(state)

    async def attempt() -> None:
        price = state.input.catalog_price
        mismatch = None
        if state.paid_currency != order.currency:
            mismatch = f"currency: paid in {state.paid_currency}, ordered in {order.currency}"
        elif state.paid_amount != order.amount:
            mismatch = (
                f"amount: the channel reports {state.paid_amount} paid, the order is {order.amount}"
            )
        elif order.amount != price:
            mismatch = f"amount: the order's {order.amount} is not the catalog price {price}"
        if mismatch:
            raise Refusal(ErrorType.RECONCILIATION_MISMATCH, mismatch)
        await forward(
            state,
            OrderActivities.reconcile_order,
            steps.ReconcileInput(
                order_id=order.order_id,
                idempotency_key=state.key("reconcile"),
                account_id=order.account_id,
                app_id=order.app_id,
                from_plan=order.from_plan,
                transaction_id=order.transaction_id,
            ),
            summary="match order, payment and account",
        )

    await decided(state, attempt)
    state.end_stage()
