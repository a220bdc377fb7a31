"""The `account-lease` entity workflow: one per account (`account-ak1-<hash of the account id>`,
`domain.lease.lease_workflow_id`), granting the
account to one paid order at a time, in the order their payments were confirmed, with a monotonic
fencing token.

- `request` (signal; sent with signal-with-start by `activities.lease`): queue a run, in payment
  order (`paid_at`: the asks are concurrent activities, so they can arrive in another order;
  patch `lease-queue-by-payment`, before it: arrival order). Duplicates of a run queued, holding
  or done are ignored. The account goes to the earliest payment among the runs that have asked
  when it is free: a run paid earlier whose ask lands after a grant waits for the next one.
- `release` (signal, from the holder's saga when it is `active` or fully compensated; or from a
  waiting run that ends, withdrawing its request).
- Grants and queue positions are sent to the runs as signals (`lease_granted`, `lease_queued`).
- The holder is checked on a timer (`run_closed`): a holder that closes without releasing
  (terminated, timed out, failed) loses the account, so an account is never locked forever. A grant to a run
  that has closed meanwhile fails to deliver and goes to the next in line.

Why an entity workflow with signals, and not update-with-start: a grant may wait hours (the
holder's propagation), too long for an update to stay open; signals are durable on return and
work on every server, the time-skipping test server included. The token only grows, carried over
continue-as-new; the entity never completes, so a restart cannot reset it (an idle entity holds no
timer and costs nothing but a row). The Web UI shows the holder and the queue in its details.
"""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.lease import LeaseActivities
    from domain.lease import (
        GRANTED_SIGNAL,
        LEASE_WORKFLOW,
        QUEUED_SIGNAL,
        RELEASE_SIGNAL,
        REQUEST_SIGNAL,
        AccountLeaseState,
        Holder,
        LeaseGrant,
        LeaseQueued,
        LeaseRelease,
        LeaseRequest,
        RunRef,
        in_payment_order,
    )
    from domain.moments import clock

# Deploy marker: requests queue in payment order (before it, in arrival order). Read on the first
# request a run receives and kept for the run (`workflow.patched` is memoised per run), so an
# entity started by earlier code keeps arrival order until it continues as new.
QUEUE_BY_PAYMENT = "lease-queue-by-payment"

# Continue as new past this many events (each grant costs about ten).
HISTORY_LIMIT = 2_000
# Recently finished runs remembered, to ignore a late duplicate request of one.
DONE_KEPT = 200
# Durable timers fire no sooner than about a second on a real server.
MIN_CHECK = timedelta(seconds=1)
CHECK_TIMEOUT = timedelta(seconds=30)
CHECK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=60)
)


@workflow.defn(name=LEASE_WORKFLOW)
class AccountLease:
    @workflow.init
    def __init__(self, state: AccountLeaseState) -> None:
        self._account = state.account_id
        self._next_token = state.next_token
        self._holder = state.holder
        self._queue = list(state.queue)
        self._done = list(state.done)
        self._grants = state.grants
        self._changed = True
        self._watched: int | None = None  # the token whose holder is being watched
        self._watch_task: asyncio.Task[None] | None = None
        self._told: dict[str, tuple[int, int]] = {}  # run id -> (holder token, position) sent

    @workflow.run
    async def run(self, state: AccountLeaseState) -> None:
        while True:
            await workflow.wait_condition(lambda: self._changed or self._too_long())
            self._changed = False
            while self._holder is None and self._queue:
                await self._grant(self._queue.pop(0))
            if self._holder is not None and self._watched != self._holder.token:
                self._watched = self._holder.token
                every = max(timedelta(seconds=self._holder.check_every_s), MIN_CHECK)
                self._watch_task = asyncio.create_task(self._watch(self._holder, every))
            await self._tell_waiters()
            workflow.set_current_details(self._details())
            if self._too_long() and not self._changed and workflow.all_handlers_finished():
                workflow.continue_as_new(self._snapshot())

    @workflow.signal(name=REQUEST_SIGNAL)
    def request(self, request: LeaseRequest) -> None:
        run_id = request.run.run_id
        known = [q.run.run_id for q in self._queue] + self._done
        if self._holder is not None:
            known.append(self._holder.run.run_id)
        if run_id in known:
            return
        if workflow.patched(QUEUE_BY_PAYMENT):
            self._queue = in_payment_order(self._queue, request)
        else:
            self._queue.append(request)
        self._changed = True

    @workflow.signal(name=RELEASE_SIGNAL)
    def release(self, release: LeaseRelease) -> None:
        self._drop(release.run, release.token, release.reason or "released")

    @workflow.query(name="state")
    def state(self) -> AccountLeaseState:
        return self._snapshot()

    def _drop(self, run: RunRef, token: int | None, why: str) -> None:
        holder = self._holder
        if holder is not None and holder.run.run_id == run.run_id:
            if token is not None and token != holder.token:
                return  # a stale release of an earlier grant
            workflow.logger.info("account %s: %s returned (%s)", self._account, run.order_id, why)
            self._holder = None
        else:
            self._queue = [q for q in self._queue if q.run.run_id != run.run_id]
        self._remember(run.run_id)
        self._changed = True

    def _remember(self, run_id: str) -> None:
        if run_id not in self._done:
            self._done = [*self._done, run_id][-DONE_KEPT:]

    async def _grant(self, request: LeaseRequest) -> None:
        token = self._next_token
        self._next_token += 1
        run = request.run
        grant = LeaseGrant(account_id=self._account, order_id=run.order_id, token=token)
        self._holder = Holder(
            run=run, token=token, since=workflow.now(), check_every_s=request.check_every_s
        )
        self._grants += 1
        try:
            await workflow.get_external_workflow_handle(run.workflow_id, run_id=run.run_id).signal(
                GRANTED_SIGNAL, grant
            )
        except FailureError as err:
            # The run has closed while it waited (terminated, or gone): next in line.
            workflow.logger.warning("account %s: grant to %s failed: %s", self._account, run, err)
            if self._holder is not None and self._holder.token == token:
                self._holder = None
            self._remember(run.run_id)
            return
        self._told.pop(run.run_id, None)
        workflow.logger.info("account %s: granted to %s (token %d)", self._account, run, token)

    async def _watch(self, holder: Holder, every: timedelta) -> None:
        """Until the holder changes: check on a timer that its run is still running."""

        def moved_on() -> bool:
            return self._holder is None or self._holder.token != holder.token

        while not moved_on():
            try:
                await workflow.wait_condition(
                    moved_on, timeout=every, timeout_summary="check the holder is still running"
                )
                return
            except TimeoutError:
                pass
            closed = await workflow.execute_activity_method(
                LeaseActivities.run_closed,
                holder.run,
                start_to_close_timeout=CHECK_TIMEOUT,
                retry_policy=CHECK_RETRY,
                summary=f"is {holder.run.order_id} still running?",
            )
            if closed is not None and not moved_on():
                self._drop(holder.run, holder.token, f"its run {closed} without releasing")

    async def _tell_waiters(self) -> None:
        holder = self._holder
        if holder is None:
            return
        for position, waiting in enumerate(list(self._queue), start=1):
            run = waiting.run
            if self._told.get(run.run_id) == (holder.token, position):
                continue
            self._told[run.run_id] = (holder.token, position)
            queued = LeaseQueued(
                account_id=self._account,
                holder_order_id=holder.run.order_id,
                holder_since=holder.since,
                position=position,
            )
            try:
                await workflow.get_external_workflow_handle(
                    run.workflow_id, run_id=run.run_id
                ).signal(QUEUED_SIGNAL, queued)
            except FailureError:
                self._drop(run, None, "closed while waiting")

    def _too_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= HISTORY_LIMIT
        )

    def _snapshot(self) -> AccountLeaseState:
        return AccountLeaseState(
            account_id=self._account,
            next_token=self._next_token,
            holder=self._holder,
            queue=tuple(self._queue),
            done=tuple(self._done),
            grants=self._grants,
        )

    def _details(self) -> str:
        holder = self._holder
        lines = [f"## Account {self._account}"]
        if holder is None:
            lines.append("**Free**: no order is applying a change.")
        else:
            lines.append(
                f"**Held by** `{holder.run.order_id}` since {clock(holder.since)} "
                f"(grant #{holder.token})"
            )
        if self._queue:
            lines.append("")
            lines.append("**Waiting**, in payment order:")
            lines += [f"{n}. `{q.run.order_id}`" for n, q in enumerate(self._queue, start=1)]
        lines.append("")
        lines.append(f"{self._grants} grants so far")
        return "\n".join(lines)
