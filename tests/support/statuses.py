"""Statuses shaped like the ones the saga reports, for the operator views' tests: a plan change
whose config lags past the SLA (5 of 8 regions applied, one open ticket); tests override fields."""

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.stages import Stage
from domain.status import (
    Attention,
    CompensationRecord,
    Escalation,
    EscalationReason,
    Eta,
    PaymentProgress,
    RegionProgress,
    Severity,
    StageRecord,
    UpgradeStatus,
)

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
REGIONS = ["cn-north", "cn-east", "cn-south", "ap-southeast", "ap-northeast", "eu-west",
           "us-east", "us-west"]  # fmt: skip


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def records(*spec: tuple[Stage, float, float | None]) -> list[StageRecord]:
    return [
        StageRecord(stage=s, started_at=at(a), ended_at=None if b is None else at(b))
        for s, a, b in spec
    ]


def make_status(**overrides: Any) -> UpgradeStatus:
    data: dict[str, Any] = {
        "order_id": "ORD-7",
        "workflow_id": "upgrade-ORD-7",
        "summary": "ORD-7: basic → standard via alipay",
        "stage": Stage.PROPAGATING,
        "payment_method": "alipay",
        "target_plan": "standard",
        "change_kinds": ["plan"],
        "started_at": at(0),
        "updated_at": at(150),
        "activation_deadline": at(122),
        "payment": PaymentProgress(status="succeeded", via="polling", confirmed_at=at(2), polls=1),
        "stages": records(
            (Stage.AWAITING_PAYMENT, 0, 2),
            (Stage.RECONCILING, 2, 3),
            (Stage.UPDATING_BILLING, 3, 5),
            (Stage.PROPAGATING, 5, None),
        ),
        "regions": [
            RegionProgress(region=r, state="applied", pushes=1, applied_at=at(20))
            for r in REGIONS[:5]
        ]
        + [RegionProgress(region=r, state="pushed", pushes=2) for r in REGIONS[5:]],
        "escalated": True,
        "escalations": [
            Escalation(
                reason=EscalationReason.ACTIVATION_SLA,
                ticket_id="TCK-00042",
                severity=Severity.HIGH,
                stage=Stage.PROPAGATING,
                opened_at=at(122),
            )
        ],
        "eta": Eta(
            earliest=at(150),
            latest=at(190),
            basis="config propagation 15 min-30 min (running 2.42 h, past its typical window); "
            "activation 1 s-30 s; notification 1 s-30 s",
        ),
        "compensations": [],
    }
    data.update(overrides)
    return UpgradeStatus.model_validate(data)


def needs_attention_status() -> UpgradeStatus:
    """A capability change whose allocation was refused: it waits for an operator."""
    status = make_status(
        stage=Stage.NEEDS_ATTENTION,
        change_kinds=["capability"],
        stages=records(
            (Stage.AWAITING_PAYMENT, 0, 1),
            (Stage.RECONCILING, 1, 2),
            (Stage.UPDATING_BILLING, 2, 3),
            (Stage.ALLOCATING_RESOURCES, 3, None),
            (Stage.NEEDS_ATTENTION, 4, None),
        ),
        regions=[],
        attention=Attention(
            reason=EscalationReason.CAPACITY_REFUSED,
            detail="no capacity for ai.conversational_multimodal in eu-west",
            since=at(4),
            allowed=("approve", "retry", "reject"),
        ),
        eta=Eta(earliest=None, latest=None, basis="waiting for an operator decision"),
    )
    status = status.model_copy(
        update={
            "stages": [
                *status.stages[:3],
                status.stages[3].model_copy(
                    update={"attempts": 1, "last_error": "no capacity in eu-west"}
                ),
                status.stages[4],
            ]
        }
    )
    return status


def cancelled_status() -> UpgradeStatus:
    """A run cancelled while propagating, unwound: rollback, billing revert, refund."""
    status = make_status(
        stage=Stage.CANCELLED,
        reason="the customer changed their mind",
        finished_at=at(40),
        stages=records(
            (Stage.AWAITING_PAYMENT, 0, 2),
            (Stage.RECONCILING, 2, 3),
            (Stage.UPDATING_BILLING, 3, 5),
            (Stage.PROPAGATING, 5, 30),
            (Stage.COMPENSATING, 30, 40),
            (Stage.CANCELLED, 40, 40),
        ),
        regions=[
            RegionProgress(region=r, state="pushed", pushes=1, applied_at=None) for r in REGIONS
        ],
        escalated=False,
        escalations=[],
        eta=Eta(earliest=None, latest=None, basis="will not activate: cancelled"),
        compensations=[
            CompensationRecord(step="rollback_config", outcome="done", at=at(31)),
            CompensationRecord(step="revert_billing_plan", outcome="done", at=at(32)),
            CompensationRecord(
                step="refund_payment", outcome="done", at=at(33), detail="600.00 CNY"
            ),
        ],
    )
    return status
