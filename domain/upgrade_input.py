"""The workflow's input: the order plus everything fixed at start (policy, price, regions).

Fixing these at start keeps a running history independent of later config or catalog changes.
`carry` holds the state of a run that continued-as-new while waiting for payment (a long wait must
not bloat one history).
"""

from datetime import datetime
from decimal import Decimal

from domain.catalog import ChangeKind, load_catalog
from domain.frozen import Frozen
from domain.models import UpgradeOrder
from domain.policy import OrderPolicy, Policy, resolve_policy
from domain.status import Escalation, PaymentProgress, StageRecord


class PaymentCarry(Frozen):
    """What a run has learned while waiting for payment, handed to its continuation."""

    started_at: datetime
    payment: PaymentProgress
    stages: list[StageRecord]
    escalations: list[Escalation]
    seen_notices: tuple[str, ...] = ()
    under_review: bool = False
    continuations: int = 0


class UpgradeInput(Frozen):
    order: UpgradeOrder
    policy: OrderPolicy
    catalog_price: Decimal
    change_kinds: tuple[ChangeKind, ...]
    regions: tuple[str, ...]
    media_profile: str | None = None
    # Continue-as-new once a payment wait's history grows past this many events.
    history_limit: int = 2_000
    carry: PaymentCarry | None = None


def build_upgrade_input(
    order: UpgradeOrder, now: datetime, time_scale: float = 1.0, policy: Policy | None = None
) -> UpgradeInput:
    catalog = load_catalog()
    return UpgradeInput(
        order=order,
        policy=resolve_policy(order, now, time_scale, policy),
        catalog_price=catalog.price(order.from_plan, order.to_plan, order.features),
        change_kinds=tuple(order.change_kinds),
        regions=catalog.regions,
        media_profile=catalog.media_profile(order.features),
    )
