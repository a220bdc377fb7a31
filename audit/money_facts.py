"""The audit's money facts: what the payment channel captured per transaction, who claimed it,
what was refunded (from the sandbox's `GET /v1/sandbox/money`), and which payments a custody still
holds (from Temporal).

Boundary: models only; the check is `audit.money`, the collection `audit.collect`.
"""

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class RefundFact(_Frozen):
    refund_id: str
    order_id: str
    # The custody workflow that refunded a held payment; None for an order's own refund.
    custody: str | None = None
    amount: Decimal


class TransactionMoney(_Frozen):
    transaction_id: str
    # The order the channel was paid for.
    order_id: str
    method: str
    # The channel's status: succeeded, failed, pending, under_review.
    status: str
    # What the channel took (its amount when `succeeded`, else 0).
    captured: Decimal
    # The transaction's amount: what a notification said was paid while the channel's own
    # status still reads pending.
    amount: Decimal = Decimal(0)
    currency: str = "CNY"
    claimed_by: str | None = None
    account_id: str | None = None
    refunds: tuple[RefundFact, ...] = Field(default_factory=tuple)

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal(0))


class MoneyFacts(_Frozen):
    transactions: tuple[TransactionMoney, ...] = ()
    # Transactions whose custody is still running (holding: not judged yet).
    held: frozenset[str] = frozenset()
    # The custody workflows Temporal has, of those the journal says a channel was told `held`.
    custodies: frozenset[str] = frozenset()
