"""Request and response bodies of the sandbox's REST contract (see `docs/platform-api.md`).

Requests forbid unknown fields: the activities are the only client, so an unexpected field is a
contract drift we want to see as a 422 at once, not silently ignored. Money travels as strings
with two decimals ("600.00"), never as floats.
"""

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from domain.catalog import ChangeKind
from domain.frozen import Frozen, StrictFrozen
from domain.models import Currency, Identifier, Money, PaymentStatus
from domain.status import Severity

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(max_length=2000)]
Features = Annotated[list[Name], Field(max_length=16)]


class RequestBody(StrictFrozen):
    """A request body: an unknown field is a contract drift, answered 422."""


class ResponseBody(Frozen):
    """A response body."""


# Payment channel -------------------------------------------------------------------------------
class TransactionOut(ResponseBody):
    transaction_id: str
    order_id: str
    status: PaymentStatus
    amount: str
    currency: str


class RefundIn(RequestBody):
    order_id: Identifier
    amount: Money
    currency: Currency
    reason: Text


class RefundOut(ResponseBody):
    # `not_charged` (no refund id) when the channel never took the money: nothing to give back.
    refund_id: str | None
    status: Literal["refunded", "not_charged"]
    amount: str


class ApprovalOut(ResponseBody):
    transaction_id: str
    status: PaymentStatus


# Orders and billing ----------------------------------------------------------------------------
class ReconcileIn(RequestBody):
    account_id: Identifier
    app_id: Identifier
    from_plan: Name
    transaction_id: Identifier
    # Checks an operator approved past; the transaction is claimed all the same.
    overrides: tuple[Literal["from_plan", "app_id"], ...] = ()


class ReconcileOut(ResponseBody):
    account_plan: str


class BillingPlanIn(RequestBody):
    order_id: Identifier
    app_id: Identifier
    from_plan: Name
    to_plan: Name
    features: Features = Field(default_factory=list)


class BillingPlanOut(ResponseBody):
    previous_plan: str
    plan: str
    quota_rules: str


class OrderRef(RequestBody):
    order_id: Identifier


class CompensationOut(ResponseBody):
    applied: bool
    detail: str


# Resource scheduler ----------------------------------------------------------------------------
class AllocationIn(RequestBody):
    order_id: Identifier
    app_id: Identifier
    regions: Annotated[list[Name], Field(min_length=1, max_length=32)]
    features: Features = Field(default_factory=list)


class ReleaseIn(RequestBody):
    app_id: Identifier


class AllocationOut(ResponseBody):
    allocation_id: str
    ready_regions: list[str]
    pending_regions: list[str]


# Media and regional config ---------------------------------------------------------------------
class MediaProfileIn(RequestBody):
    order_id: Identifier
    app_id: Identifier
    profile: Name


class MediaProfileOut(ResponseBody):
    profile_id: str
    resolution: str
    max_bitrate_kbps: int


class PublishIn(RequestBody):
    order_id: Identifier
    plan: Name
    features: Features = Field(default_factory=list)
    change_kinds: Annotated[list[ChangeKind], Field(min_length=1, max_length=4)]
    media_profile_id: Identifier | None = None


class PublishOut(ResponseBody):
    version: int
    previous_version: int


class PushIn(RequestBody):
    order_id: Identifier
    region: Name


class PushOut(ResponseBody):
    region: str
    state: Literal["pushed", "applied"]


class RegionsOut(ResponseBody):
    applied: list[str]
    pending: list[str]


class RollbackIn(RequestBody):
    order_id: Identifier
    version: Annotated[int, Field(ge=1)]
    previous_version: Annotated[int, Field(ge=0)]


# Entitlements, console, notifications, clients -------------------------------------------------
class ActivateIn(RequestBody):
    order_id: Identifier
    account_id: Identifier
    plan: Name
    features: Features = Field(default_factory=list)


class DeactivateIn(RequestBody):
    order_id: Identifier
    account_id: Identifier


class ActiveOut(ResponseBody):
    active: list[str]


class CacheInvalidateIn(RequestBody):
    order_id: Identifier
    account_id: Identifier
    app_id: Identifier


class InvalidatedOut(ResponseBody):
    invalidated: bool


class NotificationIn(RequestBody):
    order_id: Identifier
    account_id: Identifier
    app_id: Identifier
    outcome: Literal["active", "failed", "cancelled", "expired"]
    message: Text


class NotificationOut(ResponseBody):
    notification_id: str


class ClientRefreshIn(RequestBody):
    order_id: Identifier
    media_profile_id: Identifier | None = None


class RefreshOut(ResponseBody):
    requested: bool


# Ticketing -------------------------------------------------------------------------------------
class TicketIn(RequestBody):
    order_id: Identifier
    reason: Identifier
    severity: Severity
    # Free-form for the ticketing system; the saga sends `domain.steps.Diagnosis`.
    diagnosis: dict[str, Any]


class TicketOut(ResponseBody):
    ticket_id: str


class CloseTicketIn(RequestBody):
    order_id: Identifier
    resolution: Text


class ClosedOut(ResponseBody):
    closed: bool


# Sandbox admin ---------------------------------------------------------------------------------
class FaultSettings(RequestBody):
    error_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    latency_ms: Annotated[int, Field(ge=0, le=60_000)] = 0


class HealthOut(ResponseBody):
    status: Literal["ok"]
    time_scale: float
