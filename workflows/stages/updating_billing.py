"""Stage `updating_billing`: switch the account's billing plan and quota rules.

- activities: `update_billing_plan`
- compensation: `revert_billing_plan`
- timeout / retry: forward: 30 s per call, 5 tries, then a durable back-off and again, forever
- non-retryable errors: —
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import BillingActivities
    from domain import steps
    from domain.stages import Stage

from workflows import compensation
from workflows.calls import forward, must_complete
from workflows.state import RunState
from workflows.visibility import enter

STAGE = Stage.UPDATING_BILLING


async def run(state: RunState) -> None:
    enter(state, STAGE)
    order = state.order
    compensation.register(
        state,
        steps.Activity.UPDATE_BILLING_PLAN,
        lambda: must_complete(
            state,
            BillingActivities.revert_billing_plan,
            steps.RevertBillingInput(
                order_id=order.order_id,
                idempotency_key=state.key("revert_billing_plan"),
                account_id=order.account_id,
            ),
            summary=f"revert billing to {order.from_plan}",
        ),
    )
    await forward(
        state,
        BillingActivities.update_billing_plan,
        steps.BillingInput(
            order_id=order.order_id,
            idempotency_key=state.key("update_billing_plan"),
            account_id=order.account_id,
            app_id=order.app_id,
            from_plan=order.from_plan,
            to_plan=order.to_plan,
            features=order.features,
            # The lease's token: billing refuses it once a later grant of the account wrote.
            fencing_token=state.lease.token if state.lease else None,
        ),
        summary=f"switch billing {order.from_plan} → {order.to_plan}",
    )
    state.end_stage()
