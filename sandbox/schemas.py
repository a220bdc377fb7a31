"""Request and response bodies of the sandbox's REST contract (see `docs/platform-api.md`).

Requests forbid unknown fields: the activities are the only client, so an unexpected field is a
contract drift we want to see as a 422 at once, not silently ignored. Money travels as strings
with two decimals ("600.00"), never as floats.
"""

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.catalog import ChangeKind
from domain.models import Currency, Identifier, Money, PaymentStatus
from domain.status import Severity

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(max_length=2000)]
Features = Annotated[list[Name], Field(max_length=16)]


def money(amount: Decimal) -> str:
    """The wire form of an amount: always two decimals."""
    return str(amount.quantize(Decimal("0.01")))


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Response(BaseModel):
    model_config = ConfigDict(frozen=True)


# Payment channel -------------------------------------------------------------------------------
class TransactionOut(Response):
    transaction_id: str
    order_id: str
    status: PaymentStatus
    amount: str
    currency: str


class RefundIn(Request):
    order_id: Identifier
    amount: Money
    currency: Currency
    reason: Text


class RefundOut(Response):
    # `not_charged` (no refund id) when the channel never took the money: nothing to give back.
    refund_id: str | None
    status: Literal["refunded", "not_charged"]
    amount: str


class ApprovalOut(Response):
    transaction_id: str
    status: PaymentStatus


# Orders and billing ----------------------------------------------------------------------------
class ReconcileIn(Request):
    account_id: Identifier
    app_id: Identifier
    from_plan: Name
    transaction_id: Identifier


class ReconcileOut(Response):
    account_plan: str


class BillingPlanIn(Request):
    order_id: Identifier
    app_id: Identifier
    from_plan: Name
    to_plan: Name
    features: Features = []


class BillingPlanOut(Response):
    previous_plan: str
    plan: str
    quota_rules: str


class OrderRef(Request):
    order_id: Identifier


class CompensationOut(Response):
    applied: bool
    detail: str


# Resource scheduler ----------------------------------------------------------------------------
class AllocationIn(Request):
    order_id: Identifier
    app_id: Identifier
    regions: Annotated[list[Name], Field(min_length=1, max_length=32)]
    features: Features = []


class ReleaseIn(Request):
    app_id: Identifier


class AllocationOut(Response):
    allocation_id: str
    ready_regions: list[str]
    pending_regions: list[str]


# Media and regional config ---------------------------------------------------------------------
class MediaProfileIn(Request):
    order_id: Identifier
    app_id: Identifier
    profile: Name


class MediaProfileOut(Response):
    profile_id: str
    resolution: str
    max_bitrate_kbps: int


class PublishIn(Request):
    order_id: Identifier
    plan: Name
    features: Features = []
    change_kinds: Annotated[list[ChangeKind], Field(min_length=1, max_length=4)]
    media_profile_id: Identifier | None = None


class PublishOut(Response):
    version: int
    previous_version: int


class PushIn(Request):
    order_id: Identifier
    region: Name


class PushOut(Response):
    region: str
    state: Literal["pushed", "applied"]


class RegionsOut(Response):
    applied: list[str]
    pending: list[str]


class RollbackIn(Request):
    order_id: Identifier
    version: Annotated[int, Field(ge=1)]
    previous_version: Annotated[int, Field(ge=0)]


# Entitlements, console, notifications, clients -------------------------------------------------
class ActivateIn(Request):
    order_id: Identifier
    account_id: Identifier
    plan: Name
    features: Features = []


class DeactivateIn(Request):
    order_id: Identifier
    account_id: Identifier


class ActiveOut(Response):
    active: list[str]


class CacheInvalidateIn(Request):
    order_id: Identifier
    account_id: Identifier
    app_id: Identifier


class InvalidatedOut(Response):
    invalidated: bool


class NotificationIn(Request):
    order_id: Identifier
    account_id: Identifier
    app_id: Identifier
    outcome: Literal["active", "failed", "cancelled", "expired"]
    message: Text


class NotificationOut(Response):
    notification_id: str


class ClientRefreshIn(Request):
    order_id: Identifier
    media_profile_id: Identifier | None = None


class RefreshOut(Response):
    requested: bool


# Ticketing -------------------------------------------------------------------------------------
class TicketIn(Request):
    order_id: Identifier
    reason: Identifier
    severity: Severity
    # Free-form for the ticketing system; the saga sends `domain.steps.Diagnosis`.
    diagnosis: dict[str, Any]


class TicketOut(Response):
    ticket_id: str


class CloseTicketIn(Request):
    order_id: Identifier
    resolution: Text


class ClosedOut(Response):
    closed: bool


# Sandbox admin ---------------------------------------------------------------------------------
class FaultSettings(Request):
    error_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    latency_ms: Annotated[int, Field(ge=0, le=60_000)] = 0


class HealthOut(Response):
    status: Literal["ok"]
    time_scale: float
