"""Measure the saga's payload sizes from one real run, for B3 to reproduce (`bench.shape`).

One REAL-inproc upgrade is driven with the payment notification sent only after the run has
polled the channel and started its poll timer, so that every activity of a normal `plan` upgrade
appears in its history; the sizes of each payload are read off that history (the bytes the data
converter wrote), and the `status` query's answer is measured by encoding it the same way. The
account lease's messages are read off the same history (the `lease_granted` signal, the `release`
signal) and off the account's entity history (its input, the `request` signal); a history
without any of them fails the calibration, as a missing activity does. The `workflow.patched`
markers the saga records at its start are counted, for B3 to record as many.

Boundary: one upgrade and its account's entity; the numbers go into `SagaSizes`.
"""

import asyncio
import statistics
import time
from collections import defaultdict

from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.shape import FANOUT, SAGA_ACTIVITIES, Exchange, LeaseSizes, SagaSizes
from bench.variants import bench_order, notice_for, start_real
from client import upgrades
from domain.lease import GRANTED_SIGNAL, RELEASE_SIGNAL, REQUEST_SIGNAL, lease_workflow_id

TIMER_WAIT_S = 30.0
# The SDK's marker name for `workflow.patched`.
PATCH_MARKER = "core_patch"
# The payloads read off the histories besides the activities' (names as `sizes` keys them).
EXPECTED = (
    "input", "result", "update_in", "update_out", "grant", "release", "entity_input", "request",
)  # fmt: skip


def _size(payloads: Payloads) -> int:
    return sum(len(p.data) for p in payloads.payloads)


async def wait_for_poll_timer(client: Client, workflow_id: str) -> None:
    """Until the run waits for its payment (its first task started a timer)."""
    deadline = time.monotonic() + TIMER_WAIT_S
    handle = client.get_workflow_handle(workflow_id)
    while time.monotonic() < deadline:
        history = await handle.fetch_history()
        if any(e.event_type == EventType.EVENT_TYPE_TIMER_STARTED for e in history.events):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{workflow_id}: no payment poll timer within {TIMER_WAIT_S:g}s")


async def measure_saga_sizes(client: Client, order_id: str) -> SagaSizes:
    order = bench_order(order_id)
    await start_real(client, order, "REAL-inproc")
    await wait_for_poll_timer(client, order.workflow_id)
    await upgrades.confirm_payment(client, notice_for(order))
    status = await upgrades.upgrade_status(client, order_id)
    query_bytes = len(pydantic_data_converter.payload_converter.to_payloads([status])[0].data)
    await upgrades.wait_result(client, order_id)
    history = await client.get_workflow_handle(order.workflow_id).fetch_history()

    names: dict[int, str] = {}
    inputs: dict[str, list[int]] = defaultdict(list)
    results: dict[str, list[int]] = defaultdict(list)
    sizes: dict[str, int] = {}
    patches = 0
    for event in history.events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            sizes["input"] = _size(event.workflow_execution_started_event_attributes.input)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            sizes["result"] = _size(event.workflow_execution_completed_event_attributes.result)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            accepted = event.workflow_execution_update_accepted_event_attributes
            sizes["update_in"] = _size(accepted.accepted_request.input.args)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            completed = event.workflow_execution_update_completed_event_attributes
            sizes["update_out"] = _size(completed.outcome.success)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            names[event.event_id] = scheduled.activity_type.name
            inputs[scheduled.activity_type.name].append(_size(scheduled.input))
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = event.activity_task_completed_event_attributes
            results[names[done.scheduled_event_id]].append(_size(done.result))
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            patches += event.marker_recorded_event_attributes.marker_name == PATCH_MARKER
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signaled = event.workflow_execution_signaled_event_attributes
            if signaled.signal_name == GRANTED_SIGNAL:
                sizes["grant"] = _size(signaled.input)
        elif kind == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
            initiated = event.signal_external_workflow_execution_initiated_event_attributes
            if initiated.signal_name == RELEASE_SIGNAL:
                sizes["release"] = _size(initiated.input)
    entity = lease_workflow_id(order.account_id)
    for event in (await client.get_workflow_handle(entity).fetch_history()).events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            sizes["entity_input"] = _size(event.workflow_execution_started_event_attributes.input)
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signaled = event.workflow_execution_signaled_event_attributes
            if signaled.signal_name == REQUEST_SIGNAL:
                sizes["request"] = _size(signaled.input)
    missing = [name for name in SAGA_ACTIVITIES if not results.get(name)]
    missing += sorted(set(EXPECTED) - set(sizes))
    if missing:
        raise RuntimeError(f"calibration history lacks {', '.join(missing)}")
    return SagaSizes(
        workflow=Exchange(input_bytes=sizes["input"], result_bytes=sizes["result"]),
        update=Exchange(input_bytes=sizes["update_in"], result_bytes=sizes["update_out"]),
        query_bytes=query_bytes,
        activities={
            name: Exchange(
                input_bytes=round(statistics.fmean(inputs[name])),
                result_bytes=round(statistics.fmean(results[name])),
            )
            for name in SAGA_ACTIVITIES
        },
        fanout=len(inputs[FANOUT]),
        lease=LeaseSizes(
            entity_input_bytes=sizes["entity_input"],
            request_bytes=sizes["request"],
            grant_bytes=sizes["grant"],
            release_bytes=sizes["release"],
        ),
        patches=patches,
    )
