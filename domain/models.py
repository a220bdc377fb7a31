"""The public messages of the saga: the order that starts it, the updates it accepts, their answers.

Frozen pydantic models. Every field added later must have a default, so that histories recorded
with older versions still decode. Validation here is the first line of "bad input is refused with
a message naming the field": the CLI and the ingress both build these models before touching
Temporal.
"""

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from domain.catalog import ChangeKind, load_catalog
from domain.errors import InvalidOrder
from domain.frozen import StrictFrozen

# Identifiers end up in workflow ids, idempotency keys and URLs: a closed alphabet, bounded length.
Identifier = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
    ),
]
Money = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
ChannelReference = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$"
    ),
]


def amount_text(amount: Decimal) -> str:
    """An amount as the platform writes it: a string with two decimals ("600.00"), never a float."""
    return str(amount.quantize(Decimal("0.01")))


class PaymentMethod(StrEnum):
    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"
    BANK_CARD = "bank_card"
    CORPORATE_TRANSFER = "corporate_transfer"


class UpgradeOrder(StrictFrozen):
    """A paid order for a plan upgrade: what the backend hands us, one workflow per order."""

    order_id: Identifier
    account_id: Identifier
    app_id: Identifier
    from_plan: str
    to_plan: str
    features: tuple[str, ...] = ()
    payment_method: PaymentMethod
    transaction_id: Identifier
    amount: Money
    currency: Currency = "CNY"

    @field_validator("features")
    @classmethod
    def _unique_features(cls, features: tuple[str, ...]) -> tuple[str, ...]:
        seen: set[str] = set()
        for feature in features:
            if feature in seen:
                raise ValueError(f"feature {feature!r} is listed twice")
            seen.add(feature)
        if len(features) > 16:
            raise ValueError("at most 16 features per order")
        return features

    @model_validator(mode="after")
    def _is_an_upgrade(self) -> "UpgradeOrder":
        # Unknown plans, unknown features and downgrades are invalid input, not business refusals:
        # nothing may start for them. (`InvalidOrder` is a ValueError, so pydantic reports it.)
        load_catalog().check_upgrade(self.from_plan, self.to_plan, self.features)
        return self

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.order_id)

    @property
    def change_kinds(self) -> list[ChangeKind]:
        return load_catalog().change_kinds(self.from_plan, self.to_plan, self.features)

    @property
    def summary(self) -> str:
        extra = f" + {', '.join(self.features)}" if self.features else ""
        return (
            f"{self.order_id}: {self.from_plan} → {self.to_plan}{extra} via {self.payment_method}"
        )


def workflow_id_for(order_id: str) -> str:
    return f"upgrade-{order_id}"


def catalog_price(from_plan: str, to_plan: str, features: tuple[str, ...]) -> Decimal:
    return load_catalog().price(from_plan, to_plan, features)


class PaymentStatus(StrEnum):
    PENDING = "pending"
    UNDER_REVIEW = "under_review"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PaymentNotice(StrictFrozen):
    """The payment channel's asynchronous notification, delivered by the `confirm_payment` update."""

    order_id: Identifier
    transaction_id: Identifier
    amount: Money
    currency: Currency = "CNY"
    status: Literal[PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.UNDER_REVIEW] = (
        PaymentStatus.SUCCEEDED
    )
    # The channel's own number for the trade (Alipay `trade_no`, WeChat Pay `transaction_id`),
    # when the notice came through a channel's door: recorded on the payment for people.
    channel_reference: ChannelReference | None = None

    def mismatch_with(self, order: UpgradeOrder) -> InvalidOrder | None:
        """The first field on which this notice disagrees with the order, if any."""
        for field, ours, theirs in (
            ("order_id", order.order_id, self.order_id),
            ("transaction_id", order.transaction_id, self.transaction_id),
            ("currency", order.currency, self.currency),
            ("amount", order.amount, self.amount),
        ):
            if ours != theirs:
                return InvalidOrder(field, f"{theirs} does not match the order's {ours}")
        return None


class ResolutionAction(StrEnum):
    APPROVE = "approve"
    RETRY = "retry"
    REJECT = "reject"


class Resolution(StrictFrozen):
    """An operator's decision for a run that waits in `needs_attention` (or escalated while lagging)."""

    action: ResolutionAction
    note: Note | None = None
    operator: Annotated[str, StringConstraints(max_length=64)] | None = None
    # The problem this decision answers (`UpgradeStatus.attention_id`, e.g.
    # `reconciliation_mismatch-1`): a decision for another or a stale one is refused, a repeat of
    # one already taken is answered `duplicate`. Omitted: bound to the problem waiting now.
    attention_id: Identifier | None = None


class CancelRequest(StrictFrozen):
    reason: Note = "cancelled on request"


class MessageAck(StrictFrozen):
    """The answer of every update: whether it changed anything, and the stage it left the run in."""

    result: Literal["accepted", "duplicate"]
    stage: str
    detail: str = ""
