"""Stage `allocating_resources` (capability changes only): reserve compute in every region, then
check until every region is ready.

- activities: `allocate_resources`, then `check_allocation` until ready
- compensation: `release_allocation`
- timeout / retry: forward: 30 s per call, 5 tries, then a durable back-off and again,
  forever; each readiness check: 3 tries, then the next check
- non-retryable errors: `CapacityRefused` → `needs_attention` (approve, retry, reject)

Past the activation SLA an operator may `reject` while the checks go on.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import SchedulerActivities
    from domain import steps
    from domain.models import ResolutionAction
    from domain.stages import Stage

from workflows import compensation
from workflows.calls import forward, inline, must_complete
from workflows.decisions import decided, take_resolution, wait_for_decision
from workflows.exits import rejected
from workflows.state import RunState
from workflows.visibility import enter

STAGE = Stage.ALLOCATING_RESOURCES


async def run(state: RunState) -> None:
    window = state.policy.allocation
    if window is None:
        return  # nothing to allocate: not a capability change
    enter(state, STAGE)
    order = state.order
    compensation.register(
        state,
        steps.Activity.ALLOCATE_RESOURCES,
        lambda: must_complete(
            state,
            SchedulerActivities.release_allocation,
            steps.ReleaseAllocationInput(
                order_id=order.order_id,
                idempotency_key=state.key("release_allocation"),
                app_id=order.app_id,
            ),
            summary="release compute allocation",
        ),
    )
    allocated = False

    async def attempt() -> None:
        nonlocal allocated
        await forward(
            state,
            SchedulerActivities.allocate_resources,
            steps.AllocationInput(
                order_id=order.order_id,
                idempotency_key=state.key("allocate_resources"),
                app_id=order.app_id,
                regions=state.input.regions,
                features=order.features,
            ),
            summary="reserve compute in every region",
        )
        allocated = True

    await decided(state, attempt)
    interval = state.policy.check_interval(window)
    within = inline(interval)
    while allocated:
        result = await forward(
            state,
            SchedulerActivities.check_allocation,
            steps.AllocationCheckInput(
                order_id=order.order_id, app_id=order.app_id, wait_s=within.total_seconds()
            ),
            summary="check allocation readiness",
            poll=True,
        )
        if not result.pending_regions:
            break
        if not within:
            await wait_for_decision(
                state, interval, f"allocation pending in {len(result.pending_regions)} regions"
            )
        decision = take_resolution(state)
        if decision is not None and decision.action is ResolutionAction.REJECT:
            raise rejected(decision)
    state.end_stage()
