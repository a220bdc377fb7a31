"""B3's account lease: the saga's lease exchange with no logic, for `bench-b3` (`bench.baselines`).

What the real lease does on an account with one order (`workflows/lease.py`,
`activities/lease.py`, `workflows/account_lease.py`), reproduced event for event:

- the saga's activity (`bench_lease_request`, the real `request_account_lease`) starts the
  account's entity workflow by signal-with-start (`request`), the activity's input passed on as
  the signal, the entity's input the size of the real entity's state;
- the entity (`bench-b3-lease`, one per B3 run: every B3 upgrade is its own account, like the
  REAL variants') signals `lease_granted` back to the run that asked, then starts a timer as the
  real entity's holder check does (the real one fires after 5 min, longer than any bench run);
- the saga releases the account at its end with a `release` signal; the entity cancels the timer
  and waits for the next request, forever, like the real one.

No queue, no fencing token, no check of who releases: requests are granted in arrival order, one
at a time. Every payload is the size the real one has (`bench.shape.LeaseSizes`).

Boundary: workflow and activity code of the baseline; no business logic, on purpose.
"""

import contextlib
from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from bench.shape import Blob, LeaseAsk, LeaseEntityStart, blob, lease_entity_start
    from domain.lease import GRANTED_SIGNAL, RELEASE_SIGNAL, REQUEST_SIGNAL

B3_LEASE_WORKFLOW = "bench-b3-lease"
B3_LEASE_ACTIVITY = "bench_lease_request"
# The real entity checks its holder every 5 min of policy time (time scale 1 in the bench).
HOLDER_CHECK = timedelta(minutes=5)


def b3_entity_id(workflow_id: str) -> str:
    """The entity of a B3 run: one account per run."""
    return f"bench-b3-lease-{workflow_id}"


@activity.defn(name=B3_LEASE_ACTIVITY)
async def lease_request(ask: LeaseAsk) -> None:
    await activity.client().start_workflow(
        B3_LEASE_WORKFLOW,
        lease_entity_start(ask.sizes),
        id=ask.entity_id,
        task_queue=activity.info().task_queue,
        start_signal=REQUEST_SIGNAL,
        start_signal_args=[ask],
        static_summary="bench: one B3 run at a time",
    )


@workflow.defn(name=B3_LEASE_WORKFLOW)
class LeaseShaped:
    @workflow.init
    def __init__(self, start: LeaseEntityStart) -> None:
        self._grant = blob(start.grant_bytes)
        self._asks: list[LeaseAsk] = []
        self._held = False

    @workflow.run
    async def run(self, start: LeaseEntityStart) -> None:
        while True:
            await workflow.wait_condition(lambda: bool(self._asks))
            ask = self._asks.pop(0)
            self._held = True
            await workflow.get_external_workflow_handle(ask.workflow_id, run_id=ask.run_id).signal(
                GRANTED_SIGNAL, self._grant
            )
            while self._held:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: not self._held, timeout=HOLDER_CHECK)

    @workflow.signal(name=REQUEST_SIGNAL)
    def request(self, ask: LeaseAsk) -> None:
        self._asks.append(ask)

    @workflow.signal(name=RELEASE_SIGNAL)
    def release(self, release: Blob) -> None:
        self._held = False
