"""What the `status` query returns: where an upgrade is, why, and when it will be ready.

Built by the workflow from its own state on every query, never from a cache (the console's stale
"pending activation" comes from caches). Also the workflow's result, in its final form.
"""

from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from domain.frozen import Frozen
from domain.stages import Stage


class EscalationReason(StrEnum):
    ACTIVATION_SLA = "activation_sla"
    PAYMENT_OVERDUE = "payment_overdue"
    RECONCILIATION_MISMATCH = "reconciliation_mismatch"
    CAPACITY_REFUSED = "capacity_refused"
    # A compensation (or the refund) refused for good by the platform, or still failing after
    # `workflows.policies.COMPENSATION_STUCK_AFTER`: a person must undo it by hand.
    COMPENSATION_STUCK = "compensation_stuck"
    # Money the channel captured that this run cannot apply (a `succeeded` after `failed`, or a
    # payment found when an unpaid run ends): refunded by the run; the ticket is the record.
    UNAPPLIED_PAYMENT = "unapplied_payment"


class Severity(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


SEVERITY = MappingProxyType(
    {
        EscalationReason.ACTIVATION_SLA: Severity.HIGH,
        EscalationReason.RECONCILIATION_MISMATCH: Severity.HIGH,
        EscalationReason.CAPACITY_REFUSED: Severity.HIGH,
        EscalationReason.PAYMENT_OVERDUE: Severity.LOW,
        EscalationReason.COMPENSATION_STUCK: Severity.HIGH,
        EscalationReason.UNAPPLIED_PAYMENT: Severity.NORMAL,
    }
)


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
    """One outcome of one undo (or the refund). `stuck`: still failing after the bound, retrying
    on while the unwinding goes on (a later record says how it ended); `refused`: refused for good
    by the platform, left to a person (a `compensation_stuck` ticket stays open)."""

    step: str
    outcome: Literal["done", "nothing_to_undo", "stuck", "refused"]
    at: datetime
    detail: str = ""


class Eta(Frozen):
    """When the features should work. `None` ends mean "not estimable now" (e.g. a person decides).

    Past the current stage's typical window the ETA says so (`domain.eta.revise`): by how long,
    the open ticket and what a person looks at, the evidence of a revised interval or why there is
    none (`no_estimate`); `late` is those facts in words, written once (`domain.eta_words`) and
    shown as is by every door (Web UI details, `status`, `follow`, the ingress and its page)."""

    earliest: datetime | None
    latest: datetime | None
    basis: str
    # Seconds the current stage is past the latest end of its typical window (None: on time).
    overdue_s: float | None = None
    overdue_stage: Stage | None = None
    # The open ticket of this run's lateness, and the decision a `resolve` answers now.
    ticket_id: str | None = None
    attention_id: str | None = None
    # What a person is looking at (or that nobody is yet, and when a ticket opens).
    looking_at: str | None = None
    # What the revised interval rests on (regions applied, the platform's apply latency).
    evidence: str | None = None
    # Why `latest` is None, when no honest estimate is possible.
    no_estimate: str | None = None
    late: str | None = None


class PaymentProgress(Frozen):
    status: str = "pending"
    via: Literal["notification", "polling"] | None = None
    confirmed_at: datetime | None = None
    polls: int = 0
    deadline: datetime | None = None
    expires_at: datetime | None = None
    notices: int = 0
    # The channel reported `succeeded` after `failed` on this transaction: money the run refunds.
    succeeded_after_failed: bool = False
    # The channel's own trade number, from the first accepted notice that carried one.
    channel_reference: str | None = None


class Attention(Frozen):
    """Why a run waits for an operator, and what the operator can answer."""

    reason: EscalationReason
    detail: str
    since: datetime
    allowed: tuple[str, ...]
    # `<reason>-<n>`, n counting the run's needs_attention: what a `resolve` names it by.
    id: str | None = None


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
    # The id a `resolve` answers now (`Resolution.attention_id`): the needs_attention's id, or
    # `activation_sla-<n>` while escalated past the SLA in a stage that takes retry / reject.
    attention_id: str | None = None
    # Paid, but another order of the account applies its change first (the account lease).
    waiting_for: str | None = None
    # Set from the moment a `cancel` is accepted until the run has unwound.
    cancel_requested: str | None = None
    eta: Eta
    compensations: list[CompensationRecord]
    # The ETA as it was given when the payment was confirmed and when propagation started
    # (measured against the activation time by `python -m bench eta`).
    eta_at_payment: Eta | None = None
    eta_at_propagation: Eta | None = None
    # Corporate transfers: the code the payer writes in the transfer memo, which the bank
    # statement import matches (`channels.reference`). Filled in by `client.upgrades` from the
    # order id; the run itself leaves it None.
    payment_reference: str | None = None
