"""Names, inputs and results of every activity: the contract between the saga and the platform
adapters.

`Activity` holds each activity's type name, once: the adapters (`activities/`), the test double
and the benchmark's instant platform all register under these, and `COMPENSATION` pairs each
forward step with the activity that undoes it. One input model per activity (`XxxInput`), one
result model (`XxxResult`). Every mutating input carries `idempotency_key`
(`{workflow_id}:{step}`), sent to the platform as `Idempotency-Key`, so a retried call is applied
at most once.
"""

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from domain.frozen import Frozen
from domain.models import PaymentMethod, PaymentStatus
from domain.stages import Stage
from domain.status import EscalationReason, Severity


class Activity(StrEnum):
    """Every activity's type name (a public contract: histories and workers refer to them)."""

    CONFIRM_PAYMENT_STATUS = "confirm_payment_status"
    REFUND_PAYMENT = "refund_payment"
    RECONCILE_ORDER = "reconcile_order"
    UPDATE_BILLING_PLAN = "update_billing_plan"
    REVERT_BILLING_PLAN = "revert_billing_plan"
    ALLOCATE_RESOURCES = "allocate_resources"
    CHECK_ALLOCATION = "check_allocation"
    RELEASE_ALLOCATION = "release_allocation"
    GENERATE_MEDIA_PROFILE = "generate_media_profile"
    PUBLISH_CONFIG_VERSION = "publish_config_version"
    PUSH_CONFIG = "push_config"
    CHECK_PROPAGATION = "check_propagation"
    READ_APPLY_LATENCY = "read_apply_latency"
    ROLLBACK_CONFIG = "rollback_config"
    ACTIVATE_ENTITLEMENTS = "activate_entitlements"
    DEACTIVATE_ENTITLEMENTS = "deactivate_entitlements"
    INVALIDATE_CONSOLE_CACHE = "invalidate_console_cache"
    NOTIFY_CUSTOMER = "notify_customer"
    REQUEST_CLIENT_REFRESH = "request_client_refresh"
    ESCALATE = "escalate"
    CLOSE_TICKET = "close_ticket"


# Forward step -> the activity that undoes it. The saga registers the undo before the forward call
# (a call that timed out may still have taken effect) and runs them newest first; a run that did
# not end active has both or neither of each pair applied. The payment itself is undone by
# `refund_payment` when the run took money and does not activate.
COMPENSATION: Mapping[Activity, Activity] = {
    Activity.UPDATE_BILLING_PLAN: Activity.REVERT_BILLING_PLAN,
    Activity.ALLOCATE_RESOURCES: Activity.RELEASE_ALLOCATION,
    Activity.PUBLISH_CONFIG_VERSION: Activity.ROLLBACK_CONFIG,
    Activity.ACTIVATE_ENTITLEMENTS: Activity.DEACTIVATE_ENTITLEMENTS,
}


class Step(Frozen):
    order_id: str


class CheckStep(Step):
    """A read that may wait a little inside the activity for the answer to change.

    Only for waits too short for a durable timer (the server's timers fire no sooner than about
    a second): at a high time scale a few hundred milliseconds are minutes of policy time.
    `wait_s` 0 reads once.
    """

    wait_s: float = 0.0


class MutatingStep(Step):
    idempotency_key: str


class CompensationResult(Frozen):
    # False when there was nothing to undo (the forward step never took effect).
    applied: bool
    detail: str = ""


# Payment channel -------------------------------------------------------------------------------
class PaymentStatusInput(CheckStep):
    transaction_id: str
    payment_method: PaymentMethod
    amount: Decimal
    currency: str


class PaymentStatusResult(Frozen):
    status: PaymentStatus
    amount: Decimal | None = None
    currency: str | None = None


class RefundInput(MutatingStep):
    transaction_id: str
    payment_method: PaymentMethod
    amount: Decimal
    currency: str
    reason: str


# Orders and accounts ---------------------------------------------------------------------------
class ReconcileInput(MutatingStep):
    account_id: str
    app_id: str
    from_plan: str
    transaction_id: str
    # Checks an operator approved past (`from_plan`, `app_id`): skipped; the others still run and
    # the transaction is still claimed (issue 12, finding 7).
    overrides: tuple[str, ...] = ()


class ReconcileResult(Frozen):
    account_plan: str


# Billing ---------------------------------------------------------------------------------------
class BillingInput(MutatingStep):
    account_id: str
    app_id: str
    from_plan: str
    to_plan: str
    features: tuple[str, ...]
    # Optional guards of the platform contract (issue 11), sent only when set: the account version
    # the order was decided on, and the fencing token of the account lease it holds. A stale one
    # is refused with `StaleAccountVersion`.
    account_version: int | None = None
    fencing_token: int | None = None


class BillingResult(Frozen):
    previous_plan: str
    plan: str
    quota_rules: str


class RevertBillingInput(MutatingStep):
    account_id: str


# Resource scheduler ----------------------------------------------------------------------------
class AllocationInput(MutatingStep):
    app_id: str
    regions: tuple[str, ...]
    features: tuple[str, ...]


class AllocationCheckInput(CheckStep):
    app_id: str


class AllocationResult(Frozen):
    allocation_id: str
    ready_regions: tuple[str, ...]
    pending_regions: tuple[str, ...]


class ReleaseAllocationInput(MutatingStep):
    app_id: str


# Media profile and regional config -------------------------------------------------------------
class MediaProfileInput(MutatingStep):
    app_id: str
    profile: str


class MediaProfileResult(Frozen):
    profile_id: str
    resolution: str
    max_bitrate_kbps: int


class PublishConfigInput(MutatingStep):
    app_id: str
    plan: str
    features: tuple[str, ...]
    # Which config tiers the version touches: the config service propagates advanced config slower.
    change_kinds: tuple[str, ...]
    media_profile_id: str | None = None


class PublishConfigResult(Frozen):
    version: int
    previous_version: int


class PushConfigInput(MutatingStep):
    app_id: str
    version: int
    region: str


class PushConfigResult(Frozen):
    region: str
    # superseded (platform contract of issue 11): the region already serves or applies a newer
    # version; the push had no effect, and `check_propagation` says whether it holds the order.
    state: Literal["pushed", "applied", "superseded"]


class PropagationCheckInput(CheckStep):
    app_id: str
    version: int
    # Regions already known to have applied: a wait ends as soon as another one does.
    known_applied: tuple[str, ...] = ()


class PropagationCheckResult(Frozen):
    applied: tuple[str, ...]
    pending: tuple[str, ...]


class RollbackConfigInput(MutatingStep):
    app_id: str
    version: int
    previous_version: int


# Entitlements and console ----------------------------------------------------------------------
class EntitlementsInput(MutatingStep):
    account_id: str
    app_id: str
    plan: str
    features: tuple[str, ...]


class EntitlementsResult(Frozen):
    active: tuple[str, ...]


class CacheInvalidationInput(MutatingStep):
    account_id: str
    app_id: str


# Notifications ---------------------------------------------------------------------------------
# What the customer is told about: the run's end.
Outcome = Literal["active", "failed", "cancelled", "expired"]


class NotifyInput(MutatingStep):
    account_id: str
    app_id: str
    outcome: Outcome
    message: str


class ClientRefreshInput(MutatingStep):
    app_id: str
    media_profile_id: str | None = None


# Ticketing -------------------------------------------------------------------------------------
class Diagnosis(Frozen):
    """What a person needs to act on an escalation: where the run stands, since when, and the
    likely cause in business terms (order and account data that disagree, config sync slowed down
    at peak time, no compute, a silent payment channel)."""

    stage: Stage
    in_stage_seconds: float
    attempts: int
    last_error: str | None
    lagging_regions: tuple[str, ...] = ()
    likely_cause: str
    summary: str
    # The decision this ticket asks for, if any (`Resolution.attention_id`).
    attention_id: str | None = None


class EscalateInput(MutatingStep):
    reason: EscalationReason
    severity: Severity
    diagnosis: Diagnosis


class EscalateResult(Frozen):
    ticket_id: str


class CloseTicketInput(MutatingStep):
    ticket_id: str
    resolution: str
