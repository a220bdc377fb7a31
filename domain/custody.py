"""Custody of a payment nobody can apply yet: the models of the `payment-custody` workflow.

A captured payment that the ingress or an order's run cannot apply (the order was never started,
its run ended without it, a second transaction for one order, an amount that differs from the
order's, a `succeeded` after a `failed`) is held by one custody workflow per transaction,
`payment-{channel}-{transaction_id}`. It waits for an order to claim the transaction (the
platform's claim, made by the order's reconciliation) for a grace period as long as the channels
re-deliver (about a day), and otherwise refunds it.

Boundary: models, ids and the policy numbers only; the workflow is `workflows.custody`, its
activities `activities.custody`, the delivery `client.custody`.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from domain.frozen import Frozen
from domain.models import PaymentMethod, PaymentNotice, PaymentStatus

WORKFLOW_NAME = "payment-custody"
ID_PREFIX = "payment-"

# How long custody waits for a claim before refunding, in policy time (divided by the time scale
# like every delay): the channels' own re-delivery span, Alipay's ~25 h (WeChat Pay's is ~24 h),
# so a backend that starts an order late, within the time the channel would have kept knocking,
# still gets the payment applied.
GRACE = timedelta(hours=25)
# How often custody looks for a claim while it waits (policy time).
CHECK_EVERY = timedelta(hours=1)
# Below this, a scaled wait would only load the platform (as `Policy.min_poll_interval`).
MIN_INTERVAL = timedelta(milliseconds=50)
# The ticket reason of a held payment (one ticket per custody).
TICKET_REASON = "payment_held"


class CustodyActivity(StrEnum):
    """The custody's activity type names (a public contract, like `domain.steps.Activity`, which
    lists the saga's)."""

    READ_TRANSACTION_CLAIM = "read_transaction_claim"
    REFUND_HELD_PAYMENT = "refund_held_payment"
    OPEN_CUSTODY_TICKET = "open_custody_ticket"
    CLOSE_CUSTODY_TICKET = "close_custody_ticket"


def custody_id(channel: PaymentMethod, transaction_id: str) -> str:
    return f"{ID_PREFIX}{channel.value}-{transaction_id}"


def is_custody_id(name: str) -> bool:
    """Whether `name` (a workflow id, or the order id of a ledger entry) names a custody."""
    if not name.startswith(ID_PREFIX):
        return False
    rest = name[len(ID_PREFIX) :]
    return any(rest.startswith(f"{method.value}-") for method in PaymentMethod)


class HeldReason(StrEnum):
    """Why the payment could not be applied where it arrived."""

    NOT_STARTED = "order_not_started"
    RUN_ENDED = "run_ended"
    SECOND_TRANSACTION = "second_transaction"
    AMOUNT_MISMATCH = "amount_mismatch"
    SUCCEEDED_AFTER_FAILED = "succeeded_after_failed"
    WRONG_CHANNEL = "wrong_channel"
    # A channel's own door (Alipay, WeChat Pay) was paid for an `out_trade_no` that no started
    # upgrade carries: the order is not known here (the notice names no order), only the
    # transaction; custody learns whom the channel was paid for from the channel itself.
    UNKNOWN_TRADE = "unknown_trade"


# The order id a held payment carries when its order is not known (`HeldReason.UNKNOWN_TRADE`):
# a placeholder, never used to refund; custody refunds as the order the channel says it was paid
# for (`ClaimResult.order_id`), and shows that order once it has read it.
UNKNOWN_ORDER = "order-unknown"


class CustodyState(StrEnum):
    HOLDING = "holding"  # waiting for an order to claim it
    APPLIED = "applied"  # an order claimed the transaction: its run applies (or refunds) it
    REFUNDED = "refunded"  # given back by custody after the grace period
    NOT_CHARGED = "not_charged"  # the channel says it never took the money (or it was given back)


class HeldPayment(Frozen):
    """One delivery of the payment to custody: the notice, why it is held, what was said."""

    notice: PaymentNotice
    reason: HeldReason
    detail: str = ""


class CustodyInput(Frozen):
    channel: PaymentMethod
    first: HeldPayment
    received_at: datetime
    grace: timedelta
    check_every: timedelta
    time_scale: float = 1.0

    @property
    def transaction_id(self) -> str:
        return self.first.notice.transaction_id


def build_custody_input(
    channel: PaymentMethod, held: HeldPayment, now: datetime, time_scale: float = 1.0
) -> CustodyInput:
    if held.notice.status is not PaymentStatus.SUCCEEDED:
        raise ValueError("only a captured (succeeded) payment is held in custody")
    return CustodyInput(
        channel=channel,
        first=held,
        received_at=now,
        grace=max(GRACE / time_scale, MIN_INTERVAL),
        check_every=max(CHECK_EVERY / time_scale, MIN_INTERVAL),
        time_scale=time_scale,
    )


class HoldAck(Frozen):
    """The answer of the `hold` update: the custody now holds the payment (durably)."""

    result: Literal["accepted", "duplicate"]
    custody_id: str
    state: CustodyState
    detail: str = ""


class CustodyRefund(Frozen):
    refund_id: str | None
    amount: Decimal
    currency: str


class CustodyStatus(Frozen):
    """The `status` query (and the workflow's result): everything an operator needs."""

    custody_id: str
    channel: PaymentMethod
    transaction_id: str
    order_id: str
    amount: Decimal
    currency: str
    state: CustodyState
    reasons: list[HeldReason]
    deliveries: int
    received_at: datetime
    grace_until: datetime
    claimed_by: str | None = None
    refund: CustodyRefund | None = None
    ticket_id: str | None = None
    detail: str = ""


# Activities ------------------------------------------------------------------------------------
class ClaimInput(Frozen):
    transaction_id: str
    order_id: str
    channel: PaymentMethod
    amount: Decimal
    currency: str


class ClaimResult(Frozen):
    """The channel's word on the transaction: its status, and the order that claimed it."""

    status: PaymentStatus
    amount: Decimal | None = None
    claimed_by: str | None = None
    # The order the channel was paid for (it owns the refund while no order claimed it); absent
    # from results recorded before custody read it.
    order_id: str | None = None


class HeldRefundInput(Frozen):
    custody_id: str
    idempotency_key: str
    order_id: str
    transaction_id: str
    amount: Decimal
    currency: str
    reason: str


class HeldRefundResult(Frozen):
    status: Literal["refunded", "not_charged", "already_refunded"]
    refund_id: str | None
    amount: Decimal


class CustodyTicketInput(Frozen):
    custody_id: str
    idempotency_key: str
    summary: str
    diagnosis: dict[str, str]


class CloseCustodyTicketInput(Frozen):
    custody_id: str
    idempotency_key: str
    ticket_id: str
    resolution: str
