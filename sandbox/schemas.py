"""Request and response bodies of the sandbox's REST contract (see `docs/platform-api.md`).

Requests forbid unknown fields: the activities are the only client, so an unexpected field is a
contract drift we want to see as a 422 at once, not silently ignored. Money travels as strings
with two decimals ("600.00"), never as floats.

Over ~300 lines on purpose: the whole wire contract on one page, in the order of
`docs/platform-api.md`; each model is a few lines and has no logic.
"""

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from domain.catalog import ChangeKind
from domain.frozen import Frozen, StrictFrozen
from domain.models import Currency, Identifier, Money, PaymentMethod, PaymentStatus
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
    # The order whose reconciliation claimed the transaction (it applies it); None: unclaimed.
    claimed_by: str | None = None


# A custody workflow id (`payment-{channel}-{transaction_id}`): longer than an order id.
CustodyId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=ID_PATTERN)]


class RefundIn(RequestBody):
    # The order that owns the transaction (its claim, or the order the channel was paid for).
    order_id: Identifier
    amount: Money
    currency: Currency
    reason: Text
    # Set by the custody of a held payment: refused once an order has claimed the transaction.
    custody: CustodyId | None = None


class RefundOut(ResponseBody):
    # `not_charged` (no refund id) when the channel never took the money: nothing to give back;
    # `already_refunded` (no refund id) when earlier refunds gave back all it took.
    refund_id: str | None
    status: Literal["refunded", "not_charged", "already_refunded"]
    # What this refund gave back: the amount asked, capped at what is left to refund.
    amount: str
    # What is left to refund on the transaction after this refund.
    remaining: str = "0.00"


class SettleIn(RequestBody):
    """Sandbox admin: the channel captures a transaction now (late, after a failure, or one the
    channel holds for an order nobody started: then `order_id` and `method` are needed)."""

    amount: Money | None = None
    order_id: Identifier | None = None
    method: PaymentMethod | None = None
    currency: Currency | None = None


class HeldRefundOut(ResponseBody):
    refund_id: str
    order_id: str
    custody: str | None
    amount: str
    reason: str


class MoneyOut(ResponseBody):
    """Sandbox admin: one transaction's money, for the audit's conservation check."""

    transaction_id: str
    order_id: str
    method: str
    status: PaymentStatus
    # What the channel took: the amount when `succeeded`, else 0.00.
    captured: str
    # The transaction's amount, whatever its status.
    amount: str
    currency: str
    claimed_by: str | None
    account_id: str | None
    refunds: list[HeldRefundOut]


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
    # Optional guards (issue 11): the account version the order was decided on (compare and
    # set), and the fencing token of the account lease it holds (never lower than one seen).
    account_version: Annotated[int, Field(ge=0)] | None = None
    fencing_token: Annotated[int, Field(ge=1)] | None = None


class BillingPlanOut(ResponseBody):
    previous_plan: str
    plan: str
    quota_rules: str


class BillingAccountOut(ResponseBody):
    """`GET /v1/billing/accounts/{account_id}`: the fold of the account's live orders."""

    account_id: str
    plan: str
    features: list[str]
    quota_rules: str
    version: int


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
    # superseded: the region already serves, or is applying, a newer version; nothing recorded.
    state: Literal["pushed", "applied", "superseded"]


class RegionsOut(ResponseBody):
    applied: list[str]
    pending: list[str]


class KindLatencyOut(ResponseBody):
    """Seconds (of the platform's clock) until a version first pushed now is applied in EVERY
    region: 1st percentile, median and 99th percentile."""

    low_s: float
    typical_s: float
    high_s: float


class ApplyLatencyOut(ResponseBody):
    at: str
    pushes_in_flight: int
    peak: bool
    load_factor: float
    # `load_factor` less the largest fall and plus the largest rise the factor made within spans of
    # `within_s` over the last in-flight window (`sandbox.systems.apply_latency`).
    load_factor_low: float
    load_factor_high: float
    kinds: dict[ChangeKind, KindLatencyOut]


class RollbackIn(RequestBody):
    order_id: Identifier
    version: Annotated[int, Field(ge=1)]
    # Kept for the saga of today, which sends it; ignored: a rollback rolls forward to a new
    # version without the order, never back to a version captured at publish time.
    previous_version: Annotated[int, Field(ge=0)]


class RegionServes(ResponseBody):
    version: int  # 0: nothing ever applied there
    plan: str | None
    features: list[str]


class RegionsCurrentOut(ResponseBody):
    """`GET /v1/config/apps/{app_id}/regions/current`: what each catalog region serves now."""

    app_id: str
    regions: dict[str, RegionServes]


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


class EntitlementsOut(ResponseBody):
    """`GET /v1/entitlements/apps/{app_id}`: the effective state, the fold of the live grants."""

    app_id: str
    account_id: str
    plan: str | None  # the bare plan name; None while no grant is live
    features: list[str]


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
    # An order id, or the custody id of a held payment (`payment-{channel}-{transaction_id}`).
    order_id: CustodyId
    reason: Identifier
    severity: Severity
    # Free-form for the ticketing system; the saga sends `domain.steps.Diagnosis`.
    diagnosis: dict[str, Any]


class TicketOut(ResponseBody):
    ticket_id: str


class CloseTicketIn(RequestBody):
    order_id: CustodyId
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
