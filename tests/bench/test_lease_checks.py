"""The same-account burst's order check (`bench.same_account.check_order`) on made-up entity
histories: what it must refuse (a violation fails the benchmark) and what it only measures (the
grant order against the payments' `paid_at`); and the lease's events counted in a committed saga
history (`bench.lease_cost`). No server, no timing."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.lease_cost import saga_lease
from bench.same_account import LeaseOrderViolation, burst_order, check_order
from domain.lease import (
    GRANTED_SIGNAL,
    RELEASE_SIGNAL,
    REQUEST_SIGNAL,
    LeaseGrant,
    LeaseRelease,
    LeaseRequest,
    RunRef,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ORDERS = [burst_order("t", n) for n in range(3)]


def run(n: int) -> RunRef:
    order = ORDERS[n]
    return RunRef(order_id=order.order_id, workflow_id=order.workflow_id, run_id=f"run-{n}")


def _signaled(name: str, value: object) -> HistoryEvent:
    event = HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    attrs = event.workflow_execution_signaled_event_attributes
    attrs.signal_name = name
    attrs.input.payloads.extend(pydantic_data_converter.payload_converter.to_payloads([value]))
    return event


def request(n: int, paid_ms: int) -> HistoryEvent:
    paid_at = T0 + timedelta(milliseconds=paid_ms)
    return _signaled(REQUEST_SIGNAL, LeaseRequest(account_id="acct-t", run=run(n), paid_at=paid_at))


def release(n: int) -> HistoryEvent:
    return _signaled(RELEASE_SIGNAL, LeaseRelease(account_id="acct-t", run=run(n), token=n + 1))


def grant(n: int, token: int) -> HistoryEvent:
    event = HistoryEvent(
        event_type=EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED
    )
    attrs = event.signal_external_workflow_execution_initiated_event_attributes
    attrs.signal_name = GRANTED_SIGNAL
    value = LeaseGrant(account_id="acct-t", order_id=ORDERS[n].order_id, token=token)
    attrs.input.payloads.extend(pydantic_data_converter.payload_converter.to_payloads([value]))
    return event


def entity(*events: HistoryEvent) -> list[WorkflowHistory]:
    return [WorkflowHistory(workflow_id="account-ak1-test", events=list(events))]


def completed(*order: int) -> dict[str, datetime]:
    return {ORDERS[n].order_id: T0 + timedelta(seconds=i + 1) for i, n in enumerate(order)}


def one_at_a_time(order: tuple[int, ...], paid_ms: tuple[int, ...]) -> list[HistoryEvent]:
    events = [request(n, ms) for n, ms in zip(order, paid_ms, strict=True)]
    for token, n in enumerate(order, start=1):
        events += [grant(n, token), release(n)]
    return events


def test_in_order_passes_and_measures_no_inversion() -> None:
    history = entity(*one_at_a_time((0, 1, 2), (0, 5, 9)))
    measured = check_order(ORDERS, history, completed(0, 1, 2))
    assert (measured.inverted_pairs, measured.max_inversion_ms) == (0, 0.0)


def test_an_earlier_payment_asking_after_a_grant_is_measured_not_refused() -> None:
    # Order 0 (paid at 10 ms) asked first and holds; order 2, paid at 0 ms, asked after that
    # grant (the ask race), then goes before order 1 (paid later): one pair measured, no violation.
    events = [request(0, 10), grant(0, 1), request(1, 30), request(2, 0), release(0)]
    events += [grant(2, 2), release(2), grant(1, 3), release(1)]
    measured = check_order(ORDERS, entity(*events), completed(0, 2, 1))
    assert (measured.inverted_pairs, measured.max_inversion_ms) == (1, 10.0)


def test_a_grant_past_an_earlier_payment_waiting_fails() -> None:
    # All three asked before the first grant: it must go to order 0, paid first.
    events = [request(0, 0), request(1, 1), request(2, 2)]
    events += [grant(1, 1), release(1), grant(0, 2), release(0), grant(2, 3), release(2)]
    with pytest.raises(LeaseOrderViolation, match="paid earlier was waiting"):
        check_order(ORDERS, entity(*events), completed(1, 0, 2))


def test_two_holders_at_once_fail() -> None:
    events = [request(0, 0), request(1, 1), request(2, 2)]
    events += [grant(0, 1), grant(1, 2), release(0), release(1), grant(2, 3), release(2)]
    with pytest.raises(LeaseOrderViolation, match="interleave"):
        check_order(ORDERS, entity(*events), completed(0, 1, 2))


def test_activation_out_of_grant_order_fails() -> None:
    history = entity(*one_at_a_time((0, 1, 2), (0, 1, 2)))
    with pytest.raises(LeaseOrderViolation, match="activated"):
        check_order(ORDERS, history, completed(0, 2, 1))


def test_an_order_never_granted_fails() -> None:
    events = [request(0, 0), request(1, 1), request(2, 2), grant(0, 1), release(0)]
    events += [grant(1, 2), release(1)]
    with pytest.raises(LeaseOrderViolation, match="not each order once"):
        check_order(ORDERS, entity(*events), completed(0, 1, 2))


def test_requests_are_read_across_the_entitys_runs() -> None:
    # The entity continued as new mid-burst: the requests were in its first run.
    events = one_at_a_time((0, 1, 2), (0, 1, 2))
    first = WorkflowHistory(workflow_id="account-ak1-test", events=events[:5])
    second = WorkflowHistory(workflow_id="account-ak1-test", events=events[5:])
    assert check_order(ORDERS, [first, second], completed(0, 1, 2)).inverted_pairs == 0


def test_the_lease_events_of_a_committed_saga_history() -> None:
    """An order that waited behind another (`lease_queued` once): the request activity and its
    task (6), the queue signal and its task (4), the grant and its task (4), the release (2)
    and its task (3)."""
    path = Path(__file__).resolve().parents[1] / "histories/account_lease"
    history = WorkflowHistory.from_json(
        "lease-paid-together-first", (path / "lease-paid-together-first.json").read_text()
    )
    lease = saga_lease(history)
    assert lease.events == 19
    assert lease.wait_ms is not None and lease.wait_ms >= 0
