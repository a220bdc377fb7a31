"""What the `status` query returns: where an upgrade is, why, and when it will be ready.

Built by the workflow from its own state on every query, never from a cache (the console's stale
"pending activation" comes from caches). Also the workflow's result, in its final form.
"""

from datetime import datetime
from enum import StrEnum
from typing import Literal

from domain.frozen import Frozen
from domain.stages import Stage


class EscalationReason(StrEnum):
    ACTIVATION_SLA = "activation_sla"
    PAYMENT_OVERDUE = "payment_overdue"
    RECONCILIATION_MISMATCH = "reconciliation_mismatch"
    CAPACITY_REFUSED = "capacity_refused"


class Severity(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


SEVERITY = {
    EscalationReason.ACTIVATION_SLA: Severity.HIGH,
    EscalationReason.RECONCILIATION_MISMATCH: Severity.HIGH,
    EscalationReason.CAPACITY_REFUSED: Severity.HIGH,
    EscalationReason.PAYMENT_OVERDUE: Severity.LOW,
}


class StageRecord(Frozen):
    stage: Stage
    started_at: datetime
    ended_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None


RegionState = Literal["pending", "pushed", "applied", "rolled_back"]


class RegionProgress(Frozen):
    region: str
    state: RegionState = "pending"
    pushes: int = 0
    applied_at: datetime | None = None


class Escalation(Frozen):
    reason: EscalationReason
    ticket_id: str
    severity: Severity
    stage: Stage
    opened_at: datetime
    closed_at: datetime | None = None


class CompensationRecord(Frozen):
    step: str
    outcome: Literal["done", "nothing_to_undo"]
    at: datetime
    detail: str = ""


class Eta(Frozen):
    """When the features should work. `None` ends mean "not estimable now" (e.g. a person decides)."""

    earliest: datetime | None
    latest: datetime | None
    basis: str


class PaymentProgress(Frozen):
    status: str = "pending"
    via: Literal["notification", "polling"] | None = None
    confirmed_at: datetime | None = None
    polls: int = 0
    deadline: datetime | None = None
    expires_at: datetime | None = None
    notices: int = 0


class Attention(Frozen):
    """Why a run waits for an operator, and what the operator can answer."""

    reason: EscalationReason
    detail: str
    since: datetime
    allowed: tuple[str, ...]


class UpgradeStatus(Frozen):
    order_id: str
    workflow_id: str
    summary: str
    stage: Stage
    reason: str | None = None
    payment_method: str
    target_plan: str
    change_kinds: list[str]
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    activation_deadline: datetime | None = None
    payment: PaymentProgress
    stages: list[StageRecord]
    regions: list[RegionProgress]
    escalated: bool
    escalations: list[Escalation]
    attention: Attention | None = None
    # Paid, but another order of the account applies its change first (the account lease).
    waiting_for: str | None = None
    # Set from the moment a `cancel` is accepted until the run has unwound.
    cancel_requested: str | None = None
    eta: Eta
    compensations: list[CompensationRecord]
