"""Escalation: support tickets opened when a person must look (activation SLA passed, payment
overdue, a refusal parked in `needs_attention`), at most one per order and reason, each with a
diagnosis; all closed when the run ends.

Opening a ticket never blocks the saga on anything but the ticket call itself; the ticket calls
are must-complete (`calls.must_complete`).
"""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import TicketActivities
    from domain import steps
    from domain.stages import Stage
    from domain.status import SEVERITY, Escalation, EscalationReason

from workflows import metrics
from workflows.calls import must_complete
from workflows.details import likely_cause
from workflows.state import RunState
from workflows.visibility import publish


def start_activation_sla(state: RunState) -> None:
    """Start the activation SLA clock (from the confirmed payment), in a task of its own."""
    state.sla_task = asyncio.create_task(_watch_activation_sla(state))


async def _watch_activation_sla(state: RunState) -> None:
    confirmed = state.payment.confirmed_at or workflow.now()
    state.activation_deadline = confirmed + state.policy.activation_sla
    publish(state)
    remaining = state.activation_deadline - workflow.now()
    if remaining > timedelta(0):
        await workflow.sleep(remaining, summary="activation SLA (escalate if not active)")
    state.sla_fired = True
    if not state.stage.is_terminal:
        await escalate(state, EscalationReason.ACTIVATION_SLA)


async def escalate(
    state: RunState, reason: EscalationReason, resumed_stage: Stage | None = None
) -> None:
    """Open one ticket per order and reason (idempotent), with a diagnosis; never blocks the saga
    on anything but the ticket call itself."""
    if reason in state.ticketed():
        return
    state.escalating.add(reason)
    now = workflow.now()
    stage = resumed_stage or state.stage
    record = state.current_record()
    lagging = tuple(r for r, p in state.regions.items() if p.state != "applied")
    diagnosis = steps.Diagnosis(
        stage=stage,
        in_stage_seconds=(now - record.started_at).total_seconds() if record else 0.0,
        attempts=record.attempts if record else 0,
        last_error=record.last_error if record else None,
        lagging_regions=lagging,
        likely_cause=likely_cause(reason, stage, record.last_error if record else None),
        summary=state.order.summary,
        attention_id=state.attention_id(),
    )
    # Its own task, awaited through a shield: a cancel arriving meanwhile must not lose a
    # ticket the platform may already have opened (it is closed when the run ends).
    await asyncio.shield(asyncio.create_task(_open_ticket(state, reason, stage, now, diagnosis)))


async def _open_ticket(
    state: RunState,
    reason: EscalationReason,
    stage: Stage,
    now: datetime,
    diagnosis: steps.Diagnosis,
) -> None:
    result = await must_complete(
        state,
        TicketActivities.escalate,
        steps.EscalateInput(
            order_id=state.order.order_id,
            idempotency_key=state.key(f"escalate:{reason}"),
            reason=reason,
            severity=SEVERITY[reason],
            diagnosis=diagnosis,
        ),
        summary=f"open a {reason} ticket",
    )
    state.escalating.discard(reason)
    state.escalations.append(
        Escalation(
            reason=reason,
            ticket_id=result.ticket_id,
            severity=SEVERITY[reason],
            stage=stage,
            opened_at=now,
        )
    )
    workflow.logger.warning("escalated %s: ticket %s", reason, result.ticket_id)
    metrics.record_escalated(reason)
    publish(state)


async def close_tickets(state: RunState, resolution: str) -> None:
    if state.sla_task is not None:
        if state.sla_fired:
            await state.sla_task  # a ticket being opened right now must be closed too
        else:
            state.sla_task.cancel()
    await workflow.wait_condition(lambda: not state.escalating)
    for index, escalation in enumerate(state.escalations):
        if escalation.closed_at is not None:
            continue
        if escalation.reason is EscalationReason.COMPENSATION_STUCK and state.refused:
            continue  # a step refused for good waits for a person: its ticket stays open
        await must_complete(
            state,
            TicketActivities.close_ticket,
            steps.CloseTicketInput(
                order_id=state.order.order_id,
                idempotency_key=state.key(f"close_ticket:{escalation.reason}"),
                ticket_id=escalation.ticket_id,
                resolution=resolution,
            ),
            summary=f"close the {escalation.reason} ticket",
        )
        state.escalations[index] = escalation.model_copy(update={"closed_at": workflow.now()})
