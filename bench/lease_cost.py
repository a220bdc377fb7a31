"""What the account lease costs each upgrade, read off histories: events and waiting time.

- **Events in the saga**: the lease's own events (the request activity's scheduled / started /
  completed, the `lease_granted` and `lease_queued` signals received, the `release` signal's
  initiated / delivered) plus the workflow tasks they wake (a task whose scheduling directly
  follows one of them: its scheduled, started and completed events). On an account with one order
  that is 15 events: 3 + 3, 1 + 3, 2 + 3.
- **Events in the entity**: the account's entity workflow's whole history, divided by the orders
  it served (on distinct accounts: one entity per upgrade).
- **Wait**: from the request activity's scheduling to the `lease_granted` signal in the saga's
  history (server timestamps): what the lease adds to an upgrade's latency on a free account
  (the activity, the entity's start and its task, the signal back).

Boundary: reading histories and arithmetic; the runs are driven elsewhere (`bench.driver`,
`bench.same_account`).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory

from bench.baseline_lease import B3_LEASE_ACTIVITY
from domain.lease import GRANTED_SIGNAL, QUEUED_SIGNAL, RELEASE_SIGNAL, REQUEST_ACTIVITY

LEASE_ACTIVITIES = frozenset({REQUEST_ACTIVITY, B3_LEASE_ACTIVITY})
LEASE_SIGNALS_RECEIVED = frozenset({GRANTED_SIGNAL, QUEUED_SIGNAL})
_ACTIVITY_OUTCOMES = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: "activity_task_started_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_task_completed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
}
_SIGNAL_OUTCOMES = {
    EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED: (
        "external_workflow_execution_signaled_event_attributes"
    ),
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: (
        "signal_external_workflow_execution_failed_event_attributes"
    ),
}
_TASK_FOLLOWERS = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED: "workflow_task_started_event_attributes",
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: "workflow_task_completed_event_attributes",
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED: "workflow_task_failed_event_attributes",
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT: "workflow_task_timed_out_event_attributes",
}


@dataclass(frozen=True)
class SagaLease:
    events: int
    wait_ms: float | None  # None: the run was never granted its account


def saga_lease(history: WorkflowHistory) -> SagaLease:
    """The lease's events in one saga history and its wait for the grant."""
    lease_ids: set[int] = set()  # the lease's activity and outgoing signals, by event id
    woken: set[int] = set()  # workflow tasks scheduled right after a lease event
    count = 0
    requested_ms: float | None = None
    wait_ms: float | None = None
    previous_was_lease = False
    for event in history.events:
        kind, at_ms = event.event_type, event.event_time.ToNanoseconds() / 1e6
        mine = False
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_type.name in LEASE_ACTIVITIES:
                lease_ids.add(event.event_id)
                requested_ms = at_ms if requested_ms is None else requested_ms
                mine = True
        elif kind in _ACTIVITY_OUTCOMES:
            attrs = getattr(event, _ACTIVITY_OUTCOMES[kind])
            mine = attrs.scheduled_event_id in lease_ids
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            name = event.workflow_execution_signaled_event_attributes.signal_name
            mine = name in LEASE_SIGNALS_RECEIVED
            if name == GRANTED_SIGNAL and requested_ms is not None and wait_ms is None:
                wait_ms = at_ms - requested_ms
        elif kind == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
            initiated = event.signal_external_workflow_execution_initiated_event_attributes
            if initiated.signal_name == RELEASE_SIGNAL:
                lease_ids.add(event.event_id)
                mine = True
        elif kind in _SIGNAL_OUTCOMES:
            mine = getattr(event, _SIGNAL_OUTCOMES[kind]).initiated_event_id in lease_ids
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED and previous_was_lease:
            woken.add(event.event_id)
            mine = True
        elif kind in _TASK_FOLLOWERS:
            mine = getattr(event, _TASK_FOLLOWERS[kind]).scheduled_event_id in woken
        count += mine
        # A task's own events do not make the next task the lease's.
        previous_was_lease = mine and kind not in _TASK_FOLLOWERS
    return SagaLease(events=count, wait_ms=wait_ms)


@dataclass
class LeaseSample:
    """The lease's figures over a sample of one run's upgrades (empty for a variant without)."""

    saga_events: list[int] = field(default_factory=list)
    entity_events: list[float] = field(default_factory=list)  # per order the entity served
    waits_ms: list[float] = field(default_factory=list)


async def lease_sample(
    client: Client, saga_ids: Sequence[str], entity_ids: Sequence[str]
) -> LeaseSample:
    """Distinct accounts: each saga's own entity served that one order."""
    sample = LeaseSample()
    for saga_id, entity_id in zip(saga_ids, entity_ids, strict=True):
        lease = saga_lease(await client.get_workflow_handle(saga_id).fetch_history())
        sample.saga_events.append(lease.events)
        if lease.wait_ms is None:
            raise RuntimeError(f"{saga_id}: no `{GRANTED_SIGNAL}` signal in its history")
        sample.waits_ms.append(lease.wait_ms)
        entity = await client.get_workflow_handle(entity_id).fetch_history()
        sample.entity_events.append(float(len(entity.events)))
    return sample
