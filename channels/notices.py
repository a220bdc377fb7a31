"""What a verified channel notification says, in our terms, and the order check that follows it.

Both channels' verifiers return a `ChannelNotice`: authenticated (signature, merchant identity)
but not yet compared with an order, because the order is found by the notice's `out_trade_no`
and nothing unauthenticated should cause a lookup. `check_order` is that second step.

Money is `Decimal` from the channel's text to the comparison: Alipay sends yuan as text with at
most two decimals, WeChat Pay integer fen. Never a float: 19.99 * 100 is 1998.9999999999998.

Boundary: pure models and functions; depends on `domain.models` only.
"""

import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from channels.errors import AmountMismatch, BodyTooLarge, MalformedNotice, UnknownTrade
from domain.frozen import StrictFrozen
from domain.models import PaymentMethod

# What a request body may weigh before it is refused unread. Real notifications are 1-3 KB.
MAX_NOTIFY_BYTES = 32 * 1024

_CENT = Decimal("0.01")
# Alipay's amounts are Number(9,2): digits, at most two decimals; no sign, exponent or spaces.
_YUAN = re.compile(r"(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?")
# A bound on fen that keeps every amount inside domain.models.Money (12 digits, 2 decimals).
MAX_FEN = 10**12 - 1


class NoticeKind(StrEnum):
    """What the notice means for the order; a refund is never a failed payment."""

    PAID = "paid"  # Alipay TRADE_SUCCESS / TRADE_FINISHED (no refund), WeChat SUCCESS
    PENDING = "pending"  # not paid yet (Alipay WAIT_BUYER_PAY, WeChat NOTPAY / USERPAYING)
    CLOSED = "closed"  # closed unpaid (timed out, revoked, payment error)
    REFUND = "refund"  # money went back to the payer: full or partial (`full_refund`)
    REFUND_FAILED = "refund_failed"  # WeChat REFUND.ABNORMAL / REFUND.CLOSED: nothing went back


class ChannelNotice(StrictFrozen):
    """A notification whose signature and merchant identity were verified."""

    channel: PaymentMethod
    kind: NoticeKind
    # The channel's id of this notification, the same on every re-send (Alipay `notify_id`,
    # WeChat Pay envelope `id`): a log and dedup aid, not the order's key.
    notice_id: str
    # Our payment reference given to the channel: the order's `transaction_id`.
    out_trade_no: str
    # The channel's own number for the trade (Alipay `trade_no`, WeChat `transaction_id`).
    trade_no: str
    # The trade's total in yuan (the order's amount), whatever the kind.
    amount: Decimal
    currency: str = "CNY"
    # The status word as sent (`TRADE_SUCCESS`, `SUCCESS`, `REFUND.SUCCESS`...), for people.
    channel_status: str
    paid_at: datetime | None = None
    # Refunds: Alipay's `refund_fee` is the trade's refunded total so far; WeChat's
    # `amount.refund` is this refund's amount.
    refund_amount: Decimal | None = None
    refund_id: str | None = None
    full_refund: bool = False


class ExpectedPayment(StrictFrozen):
    """What the order says the channel must have been paid: the reference and the money."""

    out_trade_no: str
    amount: Decimal = Field(gt=0)
    currency: str = "CNY"


def refuse_oversize(body: bytes) -> None:
    """`BodyTooLarge` for a body over `MAX_NOTIFY_BYTES` (the ingress should also refuse by
    Content-Length before reading; this guards every other caller)."""
    if len(body) > MAX_NOTIFY_BYTES:
        raise BodyTooLarge(f"the body has {len(body)} bytes; the limit is {MAX_NOTIFY_BYTES}")


def check_order(notice: ChannelNotice, expected: ExpectedPayment) -> None:
    """Raise unless `notice` is about `expected`'s reference, for exactly its amount and currency."""
    if notice.out_trade_no != expected.out_trade_no:
        raise UnknownTrade(
            f"out_trade_no {notice.out_trade_no!r} is not the order's "
            f"payment reference {expected.out_trade_no!r}"
        )
    if notice.currency != expected.currency:
        raise AmountMismatch(
            f"currency {notice.currency} does not match the order's {expected.currency}"
        )
    if notice.amount != expected.amount:
        raise AmountMismatch(
            f"amount {notice.amount:.2f} does not match the order's {expected.amount:.2f}"
        )


def parse_yuan(field: str, text: str) -> Decimal:
    """Alipay's yuan text (`19.99`, `20`) as an exact Decimal with two places; refuse anything else."""
    if not _YUAN.fullmatch(text):
        raise MalformedNotice(
            f"{field} {text!r} is not an amount in yuan with at most two decimals"
        )
    return Decimal(text).quantize(_CENT)


def fen_to_yuan(field: str, fen: int) -> Decimal:
    """WeChat Pay's integer fen as yuan: exact (`Decimal(fen) / 100`), never through a float."""
    # bool is an int in Python; a JSON `true` must not become 0.01 CNY.
    if isinstance(fen, bool) or not isinstance(fen, int) or not 0 <= fen <= MAX_FEN:
        raise MalformedNotice(f"{field} {fen!r} is not an integer amount in fen")
    return (Decimal(fen) / 100).quantize(_CENT)


def yuan_to_fen(amount: Decimal) -> int:
    """The sending side: yuan with at most two decimals as integer fen (19.99 -> 1999, exactly)."""
    fen = amount * 100
    if fen != fen.to_integral_value() or fen < 0:
        raise ValueError(f"{amount} is not a non-negative amount with at most two decimals")
    return int(fen)
