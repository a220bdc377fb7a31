"""Evidence for the ETA (issue 14): the platform's current apply latency, read through an activity
(so a replay sees the same answers) when the payment is confirmed, when propagation starts and at
each propagation check, and the ETA given at the first two moments, kept for the status.

Best effort: a read that fails (after the poll retries) is "no evidence", never a failure of the
saga. Only for runs that took the patch (`patches.ETA_FROM_EVIDENCE`): for the others every
function here does nothing, so their histories replay unchanged.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities import ConfigActivities
    from domain.apply_latency import ApplyLatencyInput
    from domain.eta import until_propagation

from workflows.calls import interruptible
from workflows.state import RunState
from workflows.visibility import eta, publish


async def read_latency(state: RunState, *, within: timedelta | None = None) -> None:
    """Read the platform's apply latency into the state; a failure keeps the last reading.
    `within`: the run pushes at most this long from now (the reading's load range spans it)."""
    if not state.safety.eta_from_evidence:
        return
    within_s = within.total_seconds() if within is not None else None
    try:
        reading = await interruptible(
            state,
            ConfigActivities.read_apply_latency,
            ApplyLatencyInput(order_id=state.order.order_id, within_s=within_s),
            summary="read the platform's current apply latency (ETA evidence)",
            retry=state.poll_retry,
        )
    except ActivityError as err:
        workflow.logger.info("no apply latency (the ETA goes without): %s", err.cause or err)
        return
    state.latency = reading


async def at_payment_confirmed(state: RunState) -> None:
    if not state.safety.eta_from_evidence:
        return
    # The pushes are still the stages before propagation away: the load may move meanwhile.
    policy, label = state.policy, state.order.payment_method
    await read_latency(state, within=until_propagation(policy, label, state.stage))
    state.eta_at_payment = eta(state)
    publish(state)


async def at_propagation_start(state: RunState) -> None:
    if not state.safety.eta_from_evidence:
        return
    await read_latency(state)
    state.latency_at_propagation = state.latency
    state.eta_at_propagation = eta(state)
    publish(state)
