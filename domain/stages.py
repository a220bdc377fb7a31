"""The saga's stages. Their string values are a public contract (CLI, status API, search attribute)."""

from enum import StrEnum


class Stage(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    RECONCILING = "reconciling"
    UPDATING_BILLING = "updating_billing"
    ALLOCATING_RESOURCES = "allocating_resources"
    PROPAGATING = "propagating"
    ACTIVATING = "activating"
    NOTIFYING = "notifying"
    ACTIVE = "active"
    # Side states.
    NEEDS_ATTENTION = "needs_attention"
    COMPENSATING = "compensating"
    # Terminal failures.
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STAGES


TERMINAL_STAGES = frozenset({Stage.ACTIVE, Stage.FAILED, Stage.CANCELLED, Stage.EXPIRED})

# The forward path, in order; `cancel` is accepted only before ACTIVATING.
FORWARD_STAGES: tuple[Stage, ...] = (
    Stage.AWAITING_PAYMENT,
    Stage.RECONCILING,
    Stage.UPDATING_BILLING,
    Stage.ALLOCATING_RESOURCES,
    Stage.PROPAGATING,
    Stage.ACTIVATING,
    Stage.NOTIFYING,
    Stage.ACTIVE,
)
CANCELLABLE_STAGES = frozenset(
    {
        Stage.AWAITING_PAYMENT,
        Stage.RECONCILING,
        Stage.UPDATING_BILLING,
        Stage.ALLOCATING_RESOURCES,
        Stage.PROPAGATING,
        Stage.NEEDS_ATTENTION,
    }
)
