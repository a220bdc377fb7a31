"""Account lease activities: the two calls the lease needs outside workflow code.

- `request_account_lease`: a signal-with-start of the account's entity workflow (a workflow can
  signal another workflow, but not start one it does not own: the entity may not exist yet).
  Durable once it returns: the request is in the entity's history. Idempotent: the entity ignores
  a request of a run already queued, holding, or done.
- `run_closed`: whether a run has closed in any way (completed, failed, cancelled, terminated,
  timed out, deleted). The entity asks it on a timer about its holder, to take the account back
  from a holder that can no longer release it. (Not a long poll on the run's result: an activity
  that runs for hours stops the time-skipping test server from skipping time.)

Boundary: Temporal only (the activity's own client), no platform call, no decision.
"""

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from domain.lease import (
    LEASE_WORKFLOW,
    REQUEST_ACTIVITY,
    REQUEST_SIGNAL,
    WATCH_ACTIVITY,
    AccountLeaseState,
    LeaseRequest,
    RunRef,
    lease_workflow_id,
)


class LeaseActivities:
    @activity.defn(name=REQUEST_ACTIVITY)
    async def request_account_lease(self, request: LeaseRequest) -> None:
        await activity.client().start_workflow(
            LEASE_WORKFLOW,
            AccountLeaseState(account_id=request.account_id),
            id=lease_workflow_id(request.account_id),
            task_queue=activity.info().task_queue,
            start_signal=REQUEST_SIGNAL,
            start_signal_args=[request],
            static_summary=f"account {request.account_id}: one order at a time",
        )
        activity.logger.info(
            "order %s queued for account %s", request.run.order_id, request.account_id
        )

    @activity.defn(name=WATCH_ACTIVITY)
    async def run_closed(self, run: RunRef) -> str | None:
        """How the run closed, in words, or None while it is still running."""
        handle = activity.client().get_workflow_handle(run.workflow_id, run_id=run.run_id)
        try:
            described = await handle.describe()
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                return "no longer exists"
            raise
        status = described.status
        if status is None or status is WorkflowExecutionStatus.RUNNING:
            return None
        return status.name.lower().replace("_", " ")
