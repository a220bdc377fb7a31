"""Ticket activities against the real sandbox app: one ticket per order and reason, closing."""

from temporalio.testing import ActivityEnvironment

from activities import TicketActivities
from activities.http import PlatformClient
from domain.effects import Effect
from domain.stages import Stage
from domain.status import EscalationReason, Severity
from domain.steps import (
    CloseTicketInput,
    Diagnosis,
    EscalateInput,
)
from tests.activities.helpers import ledger

WF = "upgrade-ORD-1"


def escalation(key: str) -> EscalateInput:
    return EscalateInput(
        order_id="ORD-1",
        idempotency_key=key,
        reason=EscalationReason.ACTIVATION_SLA,
        severity=Severity.HIGH,
        diagnosis=Diagnosis(
            stage=Stage.PROPAGATING,
            in_stage_seconds=5400.0,
            attempts=3,
            last_error=None,
            lagging_regions=("eu-west",),
            likely_cause="config sync slow at peak time",
            summary="ORD-1: basic → premium via alipay",
        ),
    )


async def test_escalate_once_per_reason_and_close(
    platform: PlatformClient, env: ActivityEnvironment
) -> None:
    tickets = TicketActivities(platform)
    first = await env.run(tickets.escalate, escalation(f"{WF}:escalate:activation_sla"))
    # A new run of the same order escalating the same reason gets the same ticket.
    again = await env.run(tickets.escalate, escalation("upgrade-ORD-1-run2:escalate"))
    assert again == first
    await env.run(
        tickets.close_ticket,
        CloseTicketInput(
            order_id="ORD-1",
            idempotency_key=f"{WF}:close:{first.ticket_id}",
            ticket_id=first.ticket_id,
            resolution="activated",
        ),
    )
    assert [f"{e['system']}/{e['action']}" for e in await ledger(platform)] == [
        Effect.ESCALATE,
        Effect.CLOSE_TICKET,
    ]
