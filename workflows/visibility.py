"""What the outside sees of a run: the `status` query's answer with its ETA, the search attributes
and the Web UI's current details, kept in step with the state on every change.

Reads the state and writes only visibility (search attribute upserts, current details); entering a
stage lives here because it is recorded and published at once.
"""

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from domain.eta import EtaFacts, estimate_eta, revise
    from domain.moments import clock
    from domain.stages import Stage
    from domain.status import Escalation, Eta, StageRecord, UpgradeStatus

from workflows import search_attributes as sa
from workflows.calls import inline
from workflows.details import details_markdown
from workflows.state import RunState


def enter(state: RunState, stage: Stage) -> None:
    state.stage = stage
    state.stages.append(StageRecord(stage=stage, started_at=workflow.now()))
    publish(state)


def eta(state: RunState, *, legacy: bool = False) -> Eta:
    """The run's ETA (`domain.eta.revise`); `legacy`: as runs started before the evidence
    computed it (`domain.eta.estimate_eta`), for their search attribute only."""
    stage = state.stage
    if stage is Stage.ACTIVE:
        return Eta(earliest=state.finished_at, latest=state.finished_at, basis="activated")
    if stage.is_terminal or stage is Stage.COMPENSATING:
        return Eta(earliest=None, latest=None, basis=f"will not activate: {stage}")
    if stage is Stage.NEEDS_ATTENTION:
        return _needs_attention(state)
    record = state.stages[-1]
    now = workflow.now()
    if legacy:
        estimate = estimate_eta(
            state.policy, state.order.payment_method, stage, record.started_at, now
        )
    else:
        estimate = revise(state.policy, state.order.payment_method, _facts(state, record), now)
    waiting = waiting_for(state)
    if waiting is None:
        return estimate
    # How long the order ahead still takes is its own run's business: no honest upper bound here.
    return Eta(
        earliest=estimate.earliest,
        latest=None,
        basis=f"{waiting}; then, from when it is granted: {estimate.basis}",
        no_estimate=waiting,
    )


def _open_ticket(state: RunState) -> Escalation | None:
    open_ones = [e for e in state.escalations if e.closed_at is None]
    return open_ones[-1] if open_ones else None


def _facts(state: RunState, record: StageRecord) -> EtaFacts:
    regions = state.regions.values()
    return EtaFacts(
        stage=record.stage,
        stage_started_at=record.started_at,
        change_kinds=tuple(str(k) for k in state.input.change_kinds),
        latency=state.latency_at_propagation or state.latency,
        regions_applied=sum(1 for p in regions if p.state == "applied"),
        regions_total=len(state.regions),
        ticket=_open_ticket(state),
        attention_id=state.attention_id(),
        sla_at=None if state.sla_fired else state.activation_deadline,
        attempts=record.attempts,
        sight_lag=_sight_lag(state),
    )


def _sight_lag(state: RunState) -> timedelta:
    """How late the run may see a region apply: the sleep between two propagation checks (a check
    that waits inside the call sees it at once). 0 for runs started before the patch."""
    if not state.safety.eta_sight_lag:
        return timedelta(0)
    interval = state.policy.check_interval(state.policy.propagation)
    return timedelta(0) if inline(interval) else interval


def _needs_attention(state: RunState) -> Eta:
    """A person decides: no estimate, and the words say who and what."""
    ticket = _open_ticket(state)
    attention = state.attention
    looking = f"an operator decides {attention.reason}: {attention.detail}" if attention else None
    if looking and ticket is not None:
        looking += f" (ticket {ticket.ticket_id})"
    reason = "waiting for an operator decision"
    return Eta(
        earliest=None,
        latest=None,
        basis=reason,
        ticket_id=ticket.ticket_id if ticket else None,
        attention_id=state.attention_id(),
        looking_at=looking,
        no_estimate=reason,
    )


def waiting_for(state: RunState) -> str | None:
    """What a paid run waits for while another order of its account holds the account."""
    if not state.lease_requested or state.lease is not None or state.lease_released:
        return None
    account = state.order.account_id
    place = state.lease_queue
    if place is None:
        return f"waiting for account {account}: asking for it"
    ahead = "next in line" if place.position == 1 else f"number {place.position} in line"
    return (
        f"waiting for account {account}: order {place.holder_order_id} is applying its change "
        f"(since {clock(place.holder_since)}); this order is {ahead}"
    )


def status(state: RunState) -> UpgradeStatus:
    order = state.order
    return UpgradeStatus(
        order_id=order.order_id,
        workflow_id=state.wf_id,
        summary=order.summary,
        stage=state.stage,
        reason=state.reason,
        payment_method=order.payment_method,
        target_plan=order.to_plan,
        change_kinds=[str(k) for k in state.input.change_kinds],
        started_at=state.started_at,
        updated_at=workflow.now(),
        finished_at=state.finished_at,
        activation_deadline=state.activation_deadline,
        payment=state.payment,
        stages=list(state.stages),
        regions=list(state.regions.values()),
        escalated=bool(state.escalations),
        escalations=list(state.escalations),
        attention=state.attention,
        attention_id=state.attention_id(),
        waiting_for=waiting_for(state),
        cancel_requested=state.cancel.reason if state.cancel else None,
        eta=eta(state),
        compensations=list(state.compensations),
        eta_at_payment=state.eta_at_payment,
        eta_at_propagation=state.eta_at_propagation,
    )


def _eta_attribute(state: RunState, current: Eta) -> object:
    # Runs started before the evidence keep the values (so the upserts) their histories hold.
    if state.safety.eta_from_evidence:
        return current.latest
    return eta(state, legacy=True).latest


def publish(state: RunState) -> None:
    """Keep search attributes and the UI's current details in step with the state.

    Only changed attributes are upserted: each upsert is a history event.
    """
    current = status(state)
    wanted: dict[str, Any] = {
        "stage": (sa.UPGRADE_STAGE, state.stage.value),
        "escalated": (sa.ESCALATED, bool(state.escalations)),
        "deadline": (sa.ACTIVATION_DEADLINE, state.activation_deadline),
        "eta": (sa.ACTIVATION_ETA, _eta_attribute(state, current.eta)),
    }
    # The ETA moves with the clock while a stage overruns its window: upserted whenever it moved,
    # whether a task upserts would depend on the task's exact time. With clock-free decisions it
    # goes along with a change of the other attributes (a stage, an escalation, the deadline),
    # which events decide (see `workflows.alarms`). The ETA is the last of `wanted`.
    eta_alone = not state.clock_free
    updates: list[SearchAttributeUpdate[Any]] = []
    for name, (key, value) in wanted.items():
        if value is None or state.published.get(name) == value:
            continue
        if name == "eta" and not updates and not eta_alone:
            continue
        state.published[name] = value
        updates.append(key.value_set(value))
    if updates:
        workflow.upsert_search_attributes(updates)
    workflow.set_current_details(details_markdown(current))
