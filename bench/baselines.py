"""The two reference workflows the saga is measured against, and their no-op activities.

- `bench-b2`: one no-op activity, then done (the figure other Temporal benchmarks quote).
- `bench-b3`: a no-op workflow of the saga's exact shape on a normal `plan` upgrade (see the
  history in docs/benchmarks.md): the first task upserts the stage and, unless the payment
  notification has already arrived, polls the channel once and then waits on a durable timer
  (the saga's 20 s "next payment poll" at time scale 1) for the `confirm_payment` update; then the
  2 h activation-SLA timer starts, three calls run one after another, eight in parallel, four more
  one after another, with the saga's eight search-attribute upserts at the same places; the SLA
  timer is cancelled and the run returns. Every payload has the size the real saga's has
  (`bench.shape`, measured from a real history), through the same pydantic data converter; the
  `status` query answers with as many bytes as the real one.

Boundary: workflow code (deterministic, sandboxed); no business logic at all, on purpose.
"""

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from bench.shape import (
        AFTER_FANOUT,
        BEFORE_FANOUT,
        FANOUT,
        LATENCY_READ,
        PAYMENT_POLL,
        B3Input,
        Blob,
        BlobRequest,
        Exchange,
        blob,
        request,
    )
    from domain.steps import Activity
    from workflows import search_attributes as sa

B2_WORKFLOW = "bench-b2"
B3_WORKFLOW = "bench-b3"

# The saga's own timers at time scale 1: the alipay poll interval and the activation SLA.
PAYMENT_POLL_WAIT = timedelta(seconds=20)
ACTIVATION_SLA = timedelta(hours=2)
CALL_TIMEOUT = timedelta(seconds=30)


@activity.defn(name="bench_noop")
async def noop() -> None:
    return None


@activity.defn(name="bench_blob")
async def blob_call(arg: BlobRequest) -> Blob:
    return blob(arg.reply_bytes)


@workflow.defn(name=B2_WORKFLOW)
class OneActivity:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(noop, start_to_close_timeout=CALL_TIMEOUT)


def _ignore_outcome(call: "asyncio.Future[Any]") -> None:
    if not call.cancelled():
        call.exception()


@workflow.defn(name=B3_WORKFLOW)
class SagaShaped:
    @workflow.init
    def __init__(self, input: B3Input) -> None:
        self._sizes = input.sizes
        self._paid = False
        self._stage = 0

    @workflow.run
    async def run(self, input: B3Input) -> Blob:
        self._upsert(escalated=True)
        if not self._paid:
            poll = asyncio.ensure_future(self._call(PAYMENT_POLL))
            await workflow.wait_condition(lambda: poll.done() or self._paid)
            if not poll.done():
                poll.add_done_callback(_ignore_outcome)
            elif not self._paid:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self._paid, timeout=PAYMENT_POLL_WAIT)
        sla = asyncio.ensure_future(workflow.sleep(ACTIVATION_SLA))
        self._upsert(deadline=True)
        previous = None
        for name in BEFORE_FANOUT:
            if previous != LATENCY_READ:
                self._upsert()  # reconciling, updating_billing, propagating (opened by a read)
            await self._call(name)
            previous = name
        await asyncio.gather(*(self._call(FANOUT) for _ in range(self._sizes.fanout)))
        for name in AFTER_FANOUT:
            # The saga enters `activating` after the check and `notifying` after the cache.
            if name in (Activity.ACTIVATE_ENTITLEMENTS, Activity.NOTIFY_CUSTOMER):
                self._upsert()
            await self._call(name)
        sla.cancel()
        self._upsert()
        return blob(self._sizes.workflow.result_bytes)

    @workflow.query(name="status")
    def status(self) -> Blob:
        return blob(self._sizes.query_bytes)

    @workflow.update(name="confirm_payment")
    def confirm_payment(self, notice: Blob) -> Blob:
        self._paid = True
        return blob(self._sizes.update.result_bytes)

    @confirm_payment.validator
    def _validate(self, notice: Blob) -> None:
        if not notice.data:
            raise ValueError("data: empty notice")

    async def _call(self, name: str) -> Blob:
        exchange: Exchange = self._sizes.activities[name]
        result: Blob = await workflow.execute_activity(
            blob_call, request(exchange), start_to_close_timeout=CALL_TIMEOUT, summary=name
        )
        return result

    def _upsert(self, *, escalated: bool = False, deadline: bool = False) -> None:
        # One upsert event per stage change, like the saga's; the values only need their types.
        self._stage += 1
        updates: list[SearchAttributeUpdate[Any]] = [
            sa.UPGRADE_STAGE.value_set(f"stage-{self._stage}")
        ]
        now = workflow.now()
        if escalated:
            updates.append(sa.ESCALATED.value_set(False))
        if deadline:
            updates.append(sa.ACTIVATION_DEADLINE.value_set(now + ACTIVATION_SLA))
        updates.append(sa.ACTIVATION_ETA.value_set(now + ACTIVATION_SLA))
        workflow.upsert_search_attributes(updates)
