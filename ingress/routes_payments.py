"""`POST /v1/payments/notify/{channel}`: a payment channel's asynchronous notification.

Order of checks, each answered before the next is looked at: the channel is known (404) and has a
secret configured (503); the signature over the raw body is valid (401, nothing parsed, nothing
delivered); the body is a JSON object with every field of the contract, valid as a `PaymentNotice`
(422 naming the field). Only then is it delivered (`ingress.notifications`).

Every field is required here, `currency` and `status` included, although the domain model has
defaults for them: a channel that omits the status must not be read as "succeeded".
"""

import json
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field, ValidationError

from domain.custody import custody_id
from domain.models import PaymentMethod, PaymentNotice
from ingress import notifications
from ingress.problems import Kind, ProblemError, from_validation, invalid, responses
from ingress.settings import IngressSettings, channel_secret_env, journal
from ingress.signature import HEADER, SignatureError, verify
from ingress.temporal_link import TemporalLink, within

log = structlog.get_logger("ingress")
router = APIRouter(tags=["payment channels"])

# A notice is about 150 bytes; anything near this is not one (and is never read in full).
MAX_BODY_BYTES = 16 * 1024
REQUIRED_FIELDS = ("order_id", "transaction_id", "amount", "currency", "status")
EXAMPLE_BODY = {
    "order_id": "ORD-1",
    "transaction_id": "txn-1",
    "amount": "600.00",
    "currency": "CNY",
    "status": "succeeded",
}


class NotificationAck(BaseModel):
    result: Literal["accepted", "duplicate", "held"] = Field(
        description="`accepted`: this notice changed the upgrade; `duplicate`: it was already "
        "recorded (a re-delivery, or the payment is already settled); nothing changed; `held`: "
        "a payment no upgrade can apply (order not started, run ended, second transaction, "
        "amount mismatch, succeeded after failed) is now held by its custody, which refunds it "
        "unless an order claims it within the grace period.",
        examples=["accepted"],
    )
    custody: str | None = Field(
        default=None,
        description="With `held`: the custody workflow holding the payment "
        "(`payment-{channel}-{transaction_id}`).",
        examples=[None],
    )


def _channel(name: str) -> PaymentMethod:
    try:
        return PaymentMethod(name)
    except ValueError:
        known = ", ".join(m.value for m in PaymentMethod)
        raise ProblemError(
            404, Kind.UNKNOWN_CHANNEL, f"no payment channel {name!r} (known: {known})",
            field="channel",
        ) from None  # fmt: skip


async def _read_capped(request: Request) -> bytes:
    """The raw body, refused (413) past MAX_BODY_BYTES without reading the rest into memory."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ProblemError(
                413, Kind.INVALID_INPUT, f"the body exceeds {MAX_BODY_BYTES} bytes", field="body"
            )
    return bytes(body)


def _parse(body: bytes) -> PaymentNotice:
    try:
        data: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise invalid("body", f"not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise invalid("body", "must be one JSON object")
    for name in REQUIRED_FIELDS:
        if name not in data:
            raise invalid(name, "Field required")
    try:
        return PaymentNotice.model_validate(data)
    except ValidationError as error:
        raise from_validation(error) from None


@router.post(
    "/v1/payments/notify/{channel}",
    response_model=NotificationAck,
    # `custody` only with `held`: the other answers keep their one field.
    response_model_exclude_none=True,
    summary="Receive a payment channel's notification",
    description=(
        "The channel's asynchronous payment result, normalised to the JSON body below and signed "
        f"in `{HEADER}: sha256=<hex>`: an HMAC-SHA256 of the raw body keyed with the channel's "
        "secret (`UPGRADE_CHANNEL_SECRET_<CHANNEL>`). Idempotent on the transaction: repeats, "
        "concurrent copies and out-of-order statuses answer `duplicate` and change nothing. A "
        "`succeeded` payment that no upgrade can apply (its order not started, its run ended, a "
        "second transaction, another amount, after a `failed`) is answered `held` once its "
        "custody recorded it. Any other notification for an order whose upgrade has not been "
        "started yet gets 404 with Retry-After and is not recorded."
    ),
    responses=responses(401, 404, 409, 413, 422, 503, 504),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": PaymentNotice.model_json_schema()
                    | {"required": list(REQUIRED_FIELDS)},
                    "example": EXAMPLE_BODY,
                }
            },
        }
    },
)
async def notify_payment(
    channel: str,
    request: Request,
    x_signature: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="`sha256=<hex HMAC-SHA256 of the raw body with the channel's secret>`",
        ),
    ] = None,
) -> NotificationAck:
    method = _channel(channel)
    settings: IngressSettings = request.app.state.settings
    secret = settings.channel_secret(method)
    if secret is None:
        raise ProblemError(
            503,
            Kind.NOT_CONFIGURED,
            f"{channel_secret_env(method)} is not set: notifications from {method.value} are "
            "refused until it is",
        )
    body = await _read_capped(request)
    try:
        verify(body, x_signature, secret.get_secret_value())
    except SignatureError as error:
        log.warning("payment notice refused", channel=method.value, reason=str(error))
        raise ProblemError(401, Kind.BAD_SIGNATURE, str(error), field=HEADER) from None
    notice = _parse(body)
    link: TemporalLink = request.app.state.temporal
    result = await within(
        notifications.deliver(link.client(), method, notice, journal(settings), settings=settings),
        settings.ingress_request_timeout_s,
    )
    log.info(
        "payment notice",
        channel=method.value,
        order_id=notice.order_id,
        transaction_id=notice.transaction_id,
        notice_status=notice.status.value,
        result=result,
    )
    held = custody_id(method, notice.transaction_id) if result == "held" else None
    return NotificationAck(result=result, custody=held)
