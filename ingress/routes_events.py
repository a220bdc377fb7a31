"""`GET /v1/upgrades/{order_id}/events`: every status change of an upgrade as Server-Sent Events,
until the run reaches a terminal stage.

Driven by the run itself: the stream asks the run for its `status` (the same query as
`GET /v1/upgrades/{order_id}`, plus a describe, so a run closed by hand ends the stream instead of
hanging it) every `UPGRADE_EVENTS_POLL_S`, and sends an event when something changed. Nothing is
cached between two reads, so nothing can go stale; any ingress process can serve any stream.

Events: `status` (id from `ingress.event_ids`; data: the whole status for a bearer token, or the
customer's view `{order_id, stage}` for a signed link), then `end` once the stage is terminal (or
the run closed unfinished) and the response ends. A comment line every `UPGRADE_EVENTS_KEEPALIVE_S`
keeps proxies from closing a quiet stream. Resume: `Last-Event-ID` (header, as EventSource sends it
on reconnect, or `?last_event_id=`): the current status at once unless it is the one the client
has; a reconnect to a finished run whose last event the client has is answered 204 (EventSource
then stops reconnecting). If Temporal stops answering mid-stream the response ends with an `error`
event; the client reconnects with its Last-Event-ID and misses nothing.

Credentials: the backend's or operator's bearer token, or `?token=` of a signed status link.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from client import upgrades
from domain.status import UpgradeStatus
from ingress import runs
from ingress.event_ids import event_id
from ingress.link_access import Access, check_bearer_or_link
from ingress.problems import ProblemError, responses
from ingress.routes_upgrades import _not_found as not_found
from ingress.routes_upgrades import _order_id as valid_order_id
from ingress.settings import IngressSettings
from ingress.temporal_link import TemporalLink, within

router = APIRouter(prefix="/v1/upgrades", tags=["upgrades"])
_bearer = HTTPBearer(auto_error=False)
MEDIA_TYPE = "text/event-stream"
RECONNECT_MS = 3000


async def read(client: Client, order_id: str) -> tuple[UpgradeStatus, bool]:
    """The run's status and whether it still runs; `UpgradeNotFound` if it never started."""
    described = await runs.describe_run(client, order_id)
    return await upgrades.upgrade_status(client, order_id), described.running


def view(status: UpgradeStatus, access: Access) -> str:
    """The event's data: all of it for the backend, the stage only for a customer's link."""
    if access is Access.FULL:
        return status.model_dump_json()
    return json.dumps({"order_id": status.order_id, "stage": status.stage.value})


def sse(event: str, data: str, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {data}\n\n"


def _end(status: UpgradeStatus, running: bool, access: Access) -> str | None:
    """The closing event once there is nothing more to wait for, else None (a link's holder
    is told the stage, the backend why as well)."""
    if status.stage.is_terminal:
        reason = status.reason
    elif not running:
        reason = f"the run closed in stage {status.stage.value} without finishing"
    else:
        return None
    data: dict[str, str | None] = {"stage": status.stage.value}
    if access is Access.FULL:
        data["reason"] = reason
    return sse("end", json.dumps(data))


async def stream(
    request: Request,
    order_id: str,
    access: Access,
    last_id: str | None,
    first: tuple[UpgradeStatus, bool],
) -> AsyncIterator[str]:
    link: TemporalLink = request.app.state.temporal
    settings: IngressSettings = request.app.state.settings
    yield f"retry: {RECONNECT_MS}\n\n"
    status, running = first
    sent, quiet_since = last_id, time.monotonic()
    while True:
        current = event_id(status)
        if current != sent:
            yield sse("status", view(status, access), current)
            sent, quiet_since = current, time.monotonic()
        end = _end(status, running, access)
        if end is not None:
            yield end
            return
        await asyncio.sleep(settings.events_poll_s)
        if time.monotonic() - quiet_since >= settings.events_keepalive_s:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        try:
            status, running = await within(
                read(link.client(), order_id), settings.ingress_request_timeout_s
            )
        except (ProblemError, upgrades.UpgradeNotFound) as error:
            detail = error.detail if isinstance(error, ProblemError) else str(error)
            # The client reconnects with its Last-Event-ID and misses nothing.
            yield sse("error", json.dumps({"detail": detail}))
            return


@router.get(
    "/{order_id}/events",
    summary="Server-Sent Events of an upgrade's status changes",
    description=(
        "`text/event-stream`: one `status` event per change (the first at once), read from the "
        "run itself, then `end` when the stage is terminal. Event ids are `<step>.<fingerprint>` "
        "(step never goes down); resume with `Last-Event-ID`. Bearer token (backend or "
        "operator: the whole status) or `?token=` of a signed status link (`{order_id, stage}`)."
    ),
    response_class=StreamingResponse,
    responses={
        200: {"content": {MEDIA_TYPE: {}}, "description": "The event stream"},
        204: {"description": "The run has ended and the client has its last event"},
        **responses(401, 403, 404, 422, 503, 504),
    },
)
async def upgrade_events(
    order_id: str,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    token: Annotated[str | None, Query(description="a signed status link's token")] = None,
    last_event_id: Annotated[
        str | None, Query(description="resume after this event (as the header)")
    ] = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    order_id = valid_order_id(order_id)
    settings: IngressSettings = request.app.state.settings
    access = check_bearer_or_link(
        settings, order_id, credentials.credentials if credentials else None, token
    )
    link: TemporalLink = request.app.state.temporal
    try:
        first = await within(read(link.client(), order_id), settings.ingress_request_timeout_s)
    except upgrades.UpgradeNotFound:
        raise not_found(order_id) from None
    resume = (last_event_id_header or last_event_id or "").strip() or None
    status, running = first
    if resume == event_id(status) and _end(status, running, access) is not None:
        return Response(status_code=204)
    return StreamingResponse(
        stream(request, order_id, access, resume, first),
        media_type=MEDIA_TYPE,
        # No caching, and no buffering by a proxy (nginx) in front of us.
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
