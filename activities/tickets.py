"""Ticketing activities: open a support ticket with a diagnosis (one per order and reason, so a
repeated escalation never pages twice) and close it when the saga completes."""

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel
from temporalio import activity

from activities.contract import parse, path
from domain.steps import Activity, CloseTicketInput, EscalateInput, EscalateResult

if TYPE_CHECKING:
    from activities.http import PlatformClient


class _Closed(BaseModel):
    closed: Literal[True]


class TicketActivities:
    def __init__(self, client: "PlatformClient") -> None:
        self._platform = client

    @activity.defn(name=Activity.ESCALATE)
    async def escalate(self, inp: EscalateInput) -> EscalateResult:
        route = "/v1/tickets"
        data = await self._platform.post(
            route,
            {
                "order_id": inp.order_id,
                "reason": inp.reason.value,
                "severity": inp.severity.value,
                "diagnosis": inp.diagnosis.model_dump(mode="json"),
            },
            inp.idempotency_key,
        )
        result = parse(EscalateResult, data, route)
        activity.logger.warning(
            "order %s: escalated (%s) as %s", inp.order_id, inp.reason.value, result.ticket_id
        )
        return result

    @activity.defn(name=Activity.CLOSE_TICKET)
    async def close_ticket(self, inp: CloseTicketInput) -> None:
        route = path("/v1/tickets/{}/close", inp.ticket_id)
        data = await self._platform.post(
            route,
            {"order_id": inp.order_id, "resolution": inp.resolution},
            inp.idempotency_key,
        )
        parse(_Closed, data, route)
        activity.logger.info("order %s: ticket %s closed", inp.order_id, inp.ticket_id)
