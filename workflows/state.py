"""The state of one run of the saga: a plain object that the workflow class creates and passes
explicitly to every stage and every cross-cutting module.

It holds what the run knows (order, policy, stage records, payment, regions, escalations, pending
messages, the compensations registered so far) and keeps its own bookkeeping (stage records,
errors); it calls no activity, starts no timer and publishes nothing (that is `visibility`).
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import steps
    from domain.apply_latency import ApplyLatency
    from domain.lease import LeaseGrant, LeaseQueued
    from domain.models import CancelRequest, PaymentStatus, Resolution
    from domain.stages import Stage
    from domain.status import (
        Attention,
        CompensationRecord,
        Escalation,
        EscalationReason,
        Eta,
        PaymentProgress,
        RegionProgress,
        StageRecord,
    )
    from domain.upgrade_input import UpgradeInput

from workflows.alarms import Alarm
from workflows.exits import SagaEnd
from workflows.patches import Safety
from workflows.policies import (
    BEST_EFFORT_RETRY,
    FORWARD_RETRY,
    MUST_COMPLETE_RETRY,
    POLL_RETRY,
    scaled_backoff,
    scaled_retry,
    scaled_stuck_after,
)

# Undoes one forward step; registered before the step runs (see `compensation`).
Undo = Callable[[], Awaitable[steps.CompensationResult]]


class RunState:
    def __init__(self, input: UpgradeInput) -> None:
        self.input = input
        self.order = input.order
        self.policy = input.policy
        self.wf_id = workflow.info().workflow_id
        carry = input.carry
        now = workflow.now()
        self.started_at = carry.started_at if carry else now
        self.stage = Stage.AWAITING_PAYMENT
        self.reason: str | None = None
        self.finished_at: datetime | None = None
        self.stages: list[StageRecord] = list(carry.stages) if carry else []
        self.payment = carry.payment if carry else PaymentProgress()
        self.escalations: list[Escalation] = list(carry.escalations) if carry else []
        self.seen_notices: set[str] = set(carry.seen_notices) if carry else set()
        self.under_review = carry.under_review if carry else False
        self.continuations = carry.continuations if carry else 0
        self.regions: dict[str, RegionProgress] = {}
        self.compensations: list[CompensationRecord] = []
        self.undo: list[tuple[str, Undo]] = []
        self.attention: Attention | None = None
        self.resolution: Resolution | None = None
        # needs_attention so far (numbers their ids), and every decision taken, by the id it answered.
        self.attentions = 0
        self.decided: dict[str, Resolution] = {}
        self.cancel: CancelRequest | None = None
        # Set when the run starts unwinding: how it ends (`compensation.unwind`).
        self.ending: SagaEnd | None = None
        self.paid_amount: Decimal = input.order.amount
        # Refunded already while the run went on (the surplus of an approved overpayment).
        self.refunded: Decimal = Decimal(0)
        self.paid_currency = input.order.currency
        self.activation_deadline: datetime | None = None
        self.escalating: set[EscalationReason] = set()
        self.sla_task: asyncio.Task[None] | None = None
        self.sla_fired = False
        # Search attribute values last upserted, by name (`visibility.publish`).
        self.published: dict[str, object] = {}
        # Decisions follow alarms, not the clock (`workflows.alarms`): set by `run` from the patch.
        self.clock_free = False
        # The saga-safety paths this run takes (`workflows.patches`): set by `run` from the patches.
        self.safety = Safety()
        self.payment_deadline: Alarm | None = None
        self.payment_expiry: Alarm | None = None
        # The account lease (`workflows.lease`): set by `run` from its patch.
        self.leased = False
        self.lease_requested = False
        self.lease: LeaseGrant | None = None
        self.lease_queue: LeaseQueued | None = None
        self.lease_released = False
        self.config_version: steps.PublishConfigResult | None = None
        # The platform's apply latency (`workflows.evidence`): the last one read, and the one read
        # when propagation started (what the pushes of this run were made under).
        self.latency: ApplyLatency | None = None
        self.latency_at_propagation: ApplyLatency | None = None
        # The ETA as given when the payment was confirmed and when propagation started.
        self.eta_at_payment: Eta | None = None
        self.eta_at_propagation: Eta | None = None
        self.media_profile_id: str | None = None
        scale = input.policy.time_scale
        self.forward_retry = scaled_retry(FORWARD_RETRY, scale)
        self.poll_retry = scaled_retry(POLL_RETRY, scale)
        self.must_retry = scaled_retry(MUST_COMPLETE_RETRY, scale)
        self.best_effort_retry = scaled_retry(BEST_EFFORT_RETRY, scale)
        self.backoff = scaled_backoff(scale)
        self.stuck_after = scaled_stuck_after(scale)
        # Compensations refused for good (their `compensation_stuck` ticket stays open).
        self.refused: list[str] = []

    def key(self, step: str) -> str:
        """The idempotency key of one step of this run."""
        return f"{self.wf_id}:{step}"

    def payment_settled(self) -> bool:
        return self.payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED)

    def ticketed(self) -> set[EscalationReason]:
        """Reasons with a ticket open or being opened: at most one ticket per order and reason."""
        return {e.reason for e in self.escalations} | self.escalating

    def attention_id(self) -> str | None:
        """The id of the problem a decision answers now, if one is waited for."""
        if self.stage is Stage.NEEDS_ATTENTION and self.attention is not None:
            return self.attention.id
        if self.stage in (Stage.PROPAGATING, Stage.ALLOCATING_RESOURCES) and self.sla_fired:
            taken = sum(
                1 for key in self.decided if key.startswith(EscalationReason.ACTIVATION_SLA)
            )
            return f"{EscalationReason.ACTIVATION_SLA}-{taken + 1}"
        return None

    def current_record(self) -> StageRecord | None:
        """The record of the forward stage the run is in (or parked from)."""
        for record in reversed(self.stages):
            if record.stage is not Stage.NEEDS_ATTENTION:
                return record
        return None

    def end_stage(self) -> None:
        if self.stages and self.stages[-1].ended_at is None:
            self.stages[-1] = self.stages[-1].model_copy(update={"ended_at": workflow.now()})

    def note_error(self, message: str) -> None:
        if self.stages:
            last = self.stages[-1]
            self.stages[-1] = last.model_copy(
                update={"attempts": last.attempts + 1, "last_error": message[:500]}
            )
        workflow.logger.warning("%s", message)
