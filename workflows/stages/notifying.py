"""Stage `notifying`: tell the customer the upgrade is active, and ask running clients to refresh
their media config when a media profile was generated.

- activities: `notify_customer`, `request_client_refresh` (media_quality)
- compensation: none
- timeout / retry: best effort: 30 s per call, 10 tries, then the saga goes on
- non-retryable errors: —

`notify` is also how the compensation tells the customer that the run failed, was cancelled or
expired.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import NotificationActivities
    from domain import steps
    from domain.stages import Stage

from workflows.calls import best_effort
from workflows.state import RunState
from workflows.visibility import enter

STAGE = Stage.NOTIFYING


async def run(state: RunState) -> None:
    enter(state, STAGE)
    await notify(state, "active", f"Your upgrade {state.order.summary} is active everywhere.")
    if state.media_profile_id is not None:
        await best_effort(
            state,
            NotificationActivities.request_client_refresh,
            steps.ClientRefreshInput(
                order_id=state.order.order_id,
                idempotency_key=state.key("request_client_refresh"),
                app_id=state.order.app_id,
                media_profile_id=state.media_profile_id,
            ),
            summary="ask running clients to refresh their media config",
        )
    state.end_stage()


async def notify(state: RunState, outcome: steps.Outcome, message: str) -> None:
    order = state.order
    await best_effort(
        state,
        NotificationActivities.notify_customer,
        steps.NotifyInput(
            order_id=order.order_id,
            idempotency_key=state.key(f"notify_customer:{outcome}"),
            account_id=order.account_id,
            app_id=order.app_id,
            outcome=outcome,
            message=message,
        ),
        summary=f"tell the customer: {outcome}",
    )
