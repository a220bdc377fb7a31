"""Stage `activating`: grant the new plan's entitlements, then invalidate the console's caches.

- activities: `activate_entitlements`, `invalidate_console_cache`
- compensation: `deactivate_entitlements`
- timeout / retry: forward: 30 s per call, 5 tries, then a durable back-off and again, forever
- non-retryable errors: —

From here on a `cancel` is refused: the upgrade is about to be live.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import EntitlementActivities
    from domain import steps
    from domain.stages import Stage

from workflows import compensation
from workflows.calls import forward, must_complete
from workflows.state import RunState
from workflows.visibility import enter

STAGE = Stage.ACTIVATING


async def run(state: RunState) -> None:
    enter(state, STAGE)
    order = state.order
    entitlements = steps.EntitlementsInput(
        order_id=order.order_id,
        idempotency_key=state.key("activate_entitlements"),
        account_id=order.account_id,
        app_id=order.app_id,
        plan=order.to_plan,
        features=order.features,
    )
    compensation.register(
        state,
        steps.Activity.ACTIVATE_ENTITLEMENTS,
        lambda: must_complete(
            state,
            EntitlementActivities.deactivate_entitlements,
            entitlements.model_copy(update={"idempotency_key": state.key("deactivate")}),
            summary="deactivate the new entitlements",
        ),
    )
    await forward(
        state,
        EntitlementActivities.activate_entitlements,
        entitlements,
        summary=f"activate {order.to_plan} entitlements",
    )
    # The console caches feature lists: without this, customers see a stale
    # "pending activation" after the upgrade is live.
    await forward(
        state,
        EntitlementActivities.invalidate_console_cache,
        steps.CacheInvalidationInput(
            order_id=order.order_id,
            idempotency_key=state.key("invalidate_console_cache"),
            account_id=order.account_id,
            app_id=order.app_id,
        ),
        summary="invalidate console caches",
    )
    state.end_stage()
