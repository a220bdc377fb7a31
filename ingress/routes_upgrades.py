"""The backend's and the operators' endpoints: start an upgrade, read its live status, cancel it,
resolve it.

Every one needs a bearer token (`ingress.auth`): the backend token or the operator token for
start, status and cancel; the operator token for resolve. Each maps one `client.upgrades`
operation to HTTP: a refusal by the run is 409 naming the field, an unknown order 404, input
errors 422 naming the field. Status is the run's own answer to the `status` query, never a cache.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from temporalio.client import Client

from client import upgrades
from client.payment_orders import started_order
from domain.models import CancelRequest, Identifier, MessageAck, Resolution, UpgradeOrder
from domain.status import UpgradeStatus
from ingress.auth import Role, require
from ingress.problems import Kind, ProblemError, from_validation, responses
from ingress.settings import IngressSettings, journal
from ingress.temporal_link import TemporalLink, within

router = APIRouter(prefix="/v1/upgrades", tags=["upgrades"])
_ORDER_ID: TypeAdapter[str] = TypeAdapter(Identifier)

ORDER_EXAMPLE = {
    "order_id": "ORD-1",
    "account_id": "acct-1",
    "app_id": "app-1",
    "from_plan": "basic",
    "to_plan": "premium",
    "features": [],
    "payment_method": "alipay",
    "transaction_id": "txn-1",
    "amount": "600.00",
    "currency": "CNY",
}


class StartResponse(BaseModel):
    workflow_id: str = Field(examples=["upgrade-ORD-1"])
    run_id: str = Field(examples=["0195f0c2-6b1e-7d4e-9a3f-2b7c8d9e0f11"])
    created: bool = Field(
        description="true: this call started the run; false: the order already had one "
        "(running or closed) and nothing was started",
        examples=[True],
    )
    status_url: str = Field(examples=["/v1/upgrades/ORD-1"])


def _context(request: Request) -> tuple[Client, IngressSettings]:
    link: TemporalLink = request.app.state.temporal
    return link.client(), request.app.state.settings


def _order_id(value: str) -> str:
    try:
        return _ORDER_ID.validate_python(value)
    except ValidationError as error:
        problem = from_validation(error)
        raise ProblemError(
            422, Kind.INVALID_INPUT, f"order_id: {problem.errors[0].message}", field="order_id"
        ) from None


def _not_found(order_id: str) -> ProblemError:
    return ProblemError(
        404, Kind.UPGRADE_NOT_FOUND, f"no upgrade for order {order_id!r}", field="order_id"
    )


def _first_difference(posted: UpgradeOrder, existing: UpgradeOrder) -> str | None:
    ours, theirs = existing.model_dump(), posted.model_dump()
    return next((name for name in ours if ours[name] != theirs[name]), None)


@router.post(
    "",
    status_code=201,
    response_model=StartResponse,
    summary="Start an upgrade from a paid order",
    description=(
        "The same body as `starter.py start --order-file`. Idempotent on `order_id`: the first "
        "call starts the run (201), a repeat reports the existing run, running or closed (200, "
        "`created: false`), and never starts a second one. A repeat whose body differs from the "
        "order already started is refused (409 naming the first different field). The policy "
        "uses the server's `UPGRADE_TIME_SCALE`."
    ),
    dependencies=[require(Role.BACKEND)],
    responses={
        200: {"model": StartResponse, "description": "The order already had a run"},
        **responses(401, 409, 422, 503, 504),
    },
)
async def start_upgrade(
    order: Annotated[UpgradeOrder, Body(openapi_examples={"basic→premium": {
        "summary": "basic → premium, paid by alipay", "value": ORDER_EXAMPLE}})],
    request: Request,
    response: Response,
) -> StartResponse:  # fmt: skip
    client, settings = _context(request)
    started = await within(
        upgrades.start_upgrade(
            client,
            order,
            task_queue=settings.task_queue,
            time_scale=settings.time_scale,
            journal=journal(settings),
        ),
        settings.ingress_request_timeout_s,
    )
    if not started.created:
        existing = await within(
            started_order(client, order.order_id), settings.ingress_request_timeout_s
        )
        different = _first_difference(order, existing)
        if different is not None:
            raise ProblemError(
                409,
                Kind.ORDER_CONFLICT,
                f"order {order.order_id} was already started with a different {different}; "
                "nothing was started",
                field=different,
            )
        response.status_code = 200
    status_url = f"/v1/upgrades/{order.order_id}"
    response.headers["Location"] = status_url
    return StartResponse(
        workflow_id=started.workflow_id,
        run_id=started.run_id,
        created=started.created,
        status_url=status_url,
    )


@router.get(
    "/{order_id}",
    response_model=UpgradeStatus,
    summary="The live status and ETA of an upgrade",
    description=(
        "Asked of the run itself (the `status` query) on every call, never read from a cache: "
        "stage, per-stage times, attempts and last error, regions, escalations, ETA, "
        "compensations. Closed runs answer too, with their final status."
    ),
    dependencies=[require(Role.BACKEND)],
    responses=responses(401, 404, 422, 503, 504),
)
async def upgrade_status(order_id: str, request: Request) -> UpgradeStatus:
    order_id = _order_id(order_id)
    client, settings = _context(request)
    try:
        return await within(
            upgrades.upgrade_status(client, order_id), settings.ingress_request_timeout_s
        )
    except upgrades.UpgradeNotFound:
        raise _not_found(order_id) from None


async def _message(request: Request, order_id: str, send: Any, message: BaseModel) -> MessageAck:
    """Send an update; a refusal by the run is 409 naming the field, a closed run 409 too."""
    client, settings = _context(request)
    try:
        ack: MessageAck = await within(
            send(client, order_id, message, journal=journal(settings)),
            settings.ingress_request_timeout_s,
        )
        return ack
    except upgrades.MessageRejected as rejected:
        # `order_id` is how a run (or the client, for a closed run) says it has ended.
        if rejected.field != "order_id":
            raise ProblemError(
                409, Kind.MESSAGE_REFUSED, rejected.message, field=rejected.field
            ) from None
    except upgrades.UpgradeNotFound:
        pass
    # An update to a closed run fails like one to a missing run (NOT_FOUND): a query tells the
    # two apart (closed runs answer it) and says how the run ended.
    try:
        status = await within(
            upgrades.upgrade_status(client, order_id), settings.ingress_request_timeout_s
        )
    except upgrades.UpgradeNotFound:
        raise _not_found(order_id) from None
    raise ProblemError(
        409,
        Kind.UPGRADE_ENDED,
        f"the upgrade of order {order_id} has ended ({status.stage.value}: {status.reason})",
        field="order_id",
    )


@router.post(
    "/{order_id}/cancel",
    response_model=MessageAck,
    summary="Cancel an upgrade (before activating)",
    description=(
        "Accepted before the `activating` stage only: the run unwinds every completed step in "
        "reverse order and refunds, then ends `cancelled`; the answer comes once it has. A repeat "
        "answers `duplicate`. 409 naming `stage` once it is too late."
    ),
    dependencies=[require(Role.BACKEND)],
    responses=responses(401, 404, 409, 422, 503, 504),
)
async def cancel_upgrade(
    order_id: str,
    request: Request,
    cancel: Annotated[
        CancelRequest | None,
        Body(openapi_examples={"customer": {"value": {"reason": "the customer changed plans"}}}),
    ] = None,
) -> MessageAck:
    return await _message(request, _order_id(order_id), upgrades.cancel, cancel or CancelRequest())


@router.post(
    "/{order_id}/resolve",
    response_model=MessageAck,
    summary="An operator's decision for an upgrade that waits for one",
    description=(
        "Operator token only. `approve` (go on), `retry` (retry the stuck stage now) or "
        "`reject` (compensate and refund), in `needs_attention`, or `retry` / `reject` while "
        "escalated past the activation SLA; refused elsewhere with 409 naming `action`. "
        "`attention_id` (status `attention_id`) binds the decision to the problem it answers; "
        "omitted, the one waiting now is filled in. A decision for another or a stale problem is "
        "refused naming `attention_id`; a repeat of one already taken answers `duplicate`."
    ),
    dependencies=[require(Role.OPERATOR)],
    responses=responses(401, 404, 409, 422, 503, 504),
)
async def resolve_upgrade(
    order_id: str,
    resolution: Annotated[
        Resolution,
        Body(openapi_examples={"approve": {"value": {
            "action": "approve", "note": "amounts checked by hand", "operator": "alice"}}}),
    ],
    request: Request,
) -> MessageAck:  # fmt: skip
    return await _message(request, _order_id(order_id), upgrades.resolve, resolution)
