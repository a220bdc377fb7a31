"""The two reference workflows the saga is measured against, and their no-op activities.

- `bench-b2`: one no-op activity, then done (the figure other Temporal benchmarks quote).
- `bench-b3`: a no-op workflow of the saga's exact shape on a normal `plan` upgrade (see the
  history in docs/benchmarks.md). Its first task records as many `workflow.patched` markers as
  the saga reads at its start (each with its search-attribute upsert) and upserts the stage;
  unless the payment notification has already arrived, it starts the saga's two payment alarms
  (deadline, expiry: cancelled once paid), polls the channel once and waits on a durable timer
  (the saga's 20 s "next payment poll" at time scale 1) for the `confirm_payment` update. Then
  the 2 h activation-SLA timer starts; on entering `reconciling` it asks for its account and
  waits for the grant (`bench.baseline_lease`: the activity, the entity started by
  signal-with-start, the `lease_granted` signal back); three calls run one after another, eight
  in parallel, four more one after another (the propagation check between the start and the
  cancel of the saga's 30 min re-push alarm), with the saga's eight search-attribute upserts at
  the same places; the account is released (the `release` signal, awaited), the SLA timer is
  cancelled and the run returns. Every payload has the size the real saga's has (`bench.shape`,
  measured from a real history), through the same pydantic data converter; the `status` query
  answers with as many bytes as the real one.

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
        LEASE_REQUEST,
        PAYMENT_POLL,
        B3Input,
        Blob,
        BlobRequest,
        Exchange,
        blob,
        lease_ask,
        request,
    )
    from domain.lease import GRANTED_SIGNAL, RELEASE_SIGNAL
    from domain.steps import Activity
    from workflows import search_attributes as sa

from bench.baseline_lease import b3_entity_id, lease_request

B2_WORKFLOW = "bench-b2"
B3_WORKFLOW = "bench-b3"

# The saga's own timers at time scale 1: the alipay poll interval and the activation SLA.
PAYMENT_POLL_WAIT = timedelta(seconds=20)
ACTIVATION_SLA = timedelta(hours=2)
# The saga's payment alarms for an Alipay order: the 30 min deadline and the 7-day expiry.
PAYMENT_ALARMS = (timedelta(minutes=30), timedelta(days=7))
# The saga's alarm to re-push lagging regions: the `plan` propagation window's latest end.
REPUSH_ALARM = timedelta(minutes=30)
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
        self._granted = False
        self._stage = 0

    @workflow.run
    async def run(self, input: B3Input) -> Blob:
        for marker in range(self._sizes.patches):
            workflow.patched(f"bench-b3-{marker}")
        self._upsert(escalated=True)
        if not self._paid:
            alarms = [asyncio.ensure_future(workflow.sleep(after)) for after in PAYMENT_ALARMS]
            poll = asyncio.ensure_future(self._call(PAYMENT_POLL))
            await workflow.wait_condition(lambda: poll.done() or self._paid)
            if not poll.done():
                poll.add_done_callback(_ignore_outcome)
            elif not self._paid:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self._paid, timeout=PAYMENT_POLL_WAIT)
            for alarm in alarms:
                alarm.cancel()
        sla = asyncio.ensure_future(workflow.sleep(ACTIVATION_SLA))
        self._upsert(deadline=True)
        previous = None
        for name in BEFORE_FANOUT:
            if previous != LATENCY_READ:
                self._upsert()  # reconciling, updating_billing, propagating (opened by a read)
            if name == Activity.RECONCILE_ORDER:
                await self._hold_account()
            await self._call(name)
            previous = name
        await asyncio.gather(*(self._call(FANOUT) for _ in range(self._sizes.fanout)))
        for name in AFTER_FANOUT:
            # The saga enters `activating` after the check and `notifying` after the cache.
            if name in (Activity.ACTIVATE_ENTITLEMENTS, Activity.NOTIFY_CUSTOMER):
                self._upsert()
            if name == Activity.CHECK_PROPAGATION:
                repush = asyncio.ensure_future(workflow.sleep(REPUSH_ALARM))
                await self._call(name)
                repush.cancel()
                continue
            await self._call(name)
        await self._release_account()
        sla.cancel()
        self._upsert()
        return blob(self._sizes.workflow.result_bytes)

    @workflow.query(name="status")
    def status(self) -> Blob:
        return blob(self._sizes.query_bytes)

    @workflow.signal(name=GRANTED_SIGNAL)
    def lease_granted(self, grant: Blob) -> None:
        self._granted = True

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

    async def _hold_account(self) -> None:
        info = workflow.info()
        ask = lease_ask(
            b3_entity_id(info.workflow_id), info.workflow_id, info.run_id, self._sizes.lease,
            self._sizes.activities[LEASE_REQUEST].input_bytes,
        )  # fmt: skip
        await workflow.execute_activity(
            lease_request, ask, start_to_close_timeout=CALL_TIMEOUT, summary=LEASE_REQUEST
        )
        await workflow.wait_condition(lambda: self._granted)

    async def _release_account(self) -> None:
        entity = workflow.get_external_workflow_handle(b3_entity_id(workflow.info().workflow_id))
        await entity.signal(RELEASE_SIGNAL, blob(self._sizes.lease.release_bytes))

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
