"""What the channels' own doors do with a verified notice: find the order, check it, hand it on.

Shared by `routes_alipay` and `routes_wechat_pay`, which verify with `channels` first (nothing
unauthenticated reaches this module). Then, within `UPGRADE_CHANNEL_ANSWER_TIMEOUT_S`:

1. the order is the one whose run was started with `transaction_id == out_trade_no`
   (`client.payment_orders.orders_paid_by`), several is refused for a person (409, logged as an
   error). None: a `paid` notice is money taken for an order we cannot name (never started, or
   not listed yet), so it goes to the transaction's custody (`unknown_trade`,
   `ingress.notifications.hold_unknown_trade`), which waits for an order to claim it and
   otherwise refunds it as the order the channel was paid for; any other notice is
   `UnknownTrade` (404: nothing taken, the channel re-sends);
2. `channels.notices.check_order`: the amount and currency must be the order's. A `paid` notice
   that differs is money captured, so it is delivered like any payment and the delivery holds
   it in custody (`amount_mismatch`: a ticket, refunded unless the order claims the
   transaction), as the normalised door does; another notice that differs is recorded durably
   for a person (`client.review_store`), then refused (409);
3. by meaning: `paid` is delivered as a `succeeded` notice and `closed` (unpaid, timed out) as
   `failed`, through `ingress.notifications.deliver` (idempotent on the transaction and status;
   its refusals become the channel's failure answer with their status); a refund (`refund`,
   `refund_failed`) is recorded durably and never delivered: a refund is not a failed payment
   and does not change the run (a refund of a trade no run is found for is recorded too, and
   answered as handled: the money went back, a person looks); `pending` changes nothing.

Only when that finished is the notice answered as handled. Anything slower than the budget,
and any Temporal or storage failure, is `NoticeNotRecorded` (503): the channel re-sends and the
re-send finds the work done (`duplicate`) or does it.

Boundary: no parsing or verification here (`channels`), no HTTP shapes (`routes_*`).
"""

import asyncio
from dataclasses import dataclass

import structlog
from fastapi import Request
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.service import RPCError

from channels.answers import ChannelAnswer
from channels.errors import (
    AmountMismatch,
    BodyTooLarge,
    ChannelError,
    NoticeNotRecorded,
    UnknownTrade,
)
from channels.notices import (
    MAX_NOTIFY_BYTES,
    ChannelNotice,
    ExpectedPayment,
    NoticeKind,
    check_order,
)
from client import payment_orders
from client.review_store import ReviewStore
from domain.custody import UNKNOWN_ORDER
from domain.models import PaymentNotice, PaymentStatus, UpgradeOrder
from ingress import notifications
from ingress.problems import ProblemError
from ingress.settings import IngressSettings, journal
from ingress.temporal_link import TemporalLink

log = structlog.get_logger("ingress")

_DELIVERED = {NoticeKind.PAID: PaymentStatus.SUCCEEDED, NoticeKind.CLOSED: PaymentStatus.FAILED}
_REFUNDS = (NoticeKind.REFUND, NoticeKind.REFUND_FAILED)


def _refund_words(notice: ChannelNotice) -> str:
    what = "full refund" if notice.full_refund else "refund"
    if notice.kind is NoticeKind.REFUND_FAILED:
        what = "refund that did not happen"
    return f"{notice.channel.value} notified a {what} of {notice.refund_amount} {notice.currency}"


@dataclass(frozen=True)
class Handled:
    """A notice handled: what was done with it (for the log; the channel sees only success)."""

    order_id: str
    outcome: str


class Refused(ChannelError):
    """A refusal decided past verification (by `deliver` or Temporal), with its own status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.http_status = status


def answer_status(error: ChannelError) -> int:
    return error.http_status if isinstance(error, Refused) else error.status


def fitted(answer: ChannelAnswer, error: ChannelError) -> ChannelAnswer:
    """`answer` with the status a `Refused` carries (the channels' answers use the class's)."""
    return answer.model_copy(update={"status_code": answer_status(error)})


async def read_body(request: Request) -> bytes:
    """The raw body, refused unread over `MAX_NOTIFY_BYTES` (by Content-Length, then by count)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_NOTIFY_BYTES:
        raise BodyTooLarge(f"the body has {declared} bytes; the limit is {MAX_NOTIFY_BYTES}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_NOTIFY_BYTES:
            raise BodyTooLarge(f"the body exceeds {MAX_NOTIFY_BYTES} bytes")
    return bytes(body)


async def handle(request: Request, notice: ChannelNotice) -> Handled:
    """Take a verified notice to its order within the answer budget, or raise a `ChannelError`."""
    settings: IngressSettings = request.app.state.settings
    link: TemporalLink = request.app.state.temporal
    try:
        client = link.client()
    except ProblemError as problem:
        raise NoticeNotRecorded(problem.detail) from None
    try:
        return await asyncio.wait_for(
            _handle(client, settings, notice), settings.channel_answer_timeout_s
        )
    except TimeoutError:
        raise NoticeNotRecorded(
            f"not recorded within {settings.channel_answer_timeout_s:g} s; send it again"
        ) from None
    except RPCError as error:
        raise NoticeNotRecorded(
            f"Temporal did not answer ({error.status.name}); send it again"
        ) from None
    except ProblemError as problem:
        raise Refused(problem.detail, problem.status) from None
    except OSError as error:  # the review store could not write: nothing is claimed as handled
        log.error("channel notice not recorded", error=str(error))
        raise NoticeNotRecorded("the notice could not be recorded; send it again") from None


async def _handle(client: Client, settings: IngressSettings, notice: ChannelNotice) -> Handled:
    store = ReviewStore.in_dir(settings.data_dir)
    try:
        order = await _order_for(client, notice)
    except UnknownTrade:
        if notice.kind is NoticeKind.PAID:
            return await _hold_unknown_trade(client, settings, notice)
        if notice.kind not in _REFUNDS:
            raise
        # Money went back to a payer for a trade we cannot place: kept for a person, handled.
        reason = f"{_refund_words(notice)}, for a trade no upgrade was found for"
        await asyncio.to_thread(store.record_notice, notice, None, reason)
        log.warning("refund notice for an unknown trade recorded", channel=notice.channel.value)
        return Handled(order_id="-", outcome="refund of an unknown trade: recorded")
    try:
        check_order(
            notice,
            ExpectedPayment(
                out_trade_no=order.transaction_id, amount=order.amount, currency=order.currency
            ),
        )
    except AmountMismatch as mismatch:
        log.error(
            "channel notice amount differs from the order",
            channel=notice.channel.value,
            order_id=order.order_id,
            trade_no=notice.trade_no,
            reason=mismatch.message,
        )
        if notice.kind is not NoticeKind.PAID:
            # Nothing captured to hold: recorded for a person before the refusal.
            await asyncio.to_thread(store.record_notice, notice, order.order_id, mismatch.message)
            raise
        # Captured: delivered below, where the order's check holds it in custody.
    if notice.kind in _DELIVERED:
        payment = _payment(notice, order.order_id, order.transaction_id)
        result = await notifications.deliver(client, notice.channel, payment, journal(settings))
        return Handled(order_id=order.order_id, outcome=f"{payment.status.value}: {result}")
    if notice.kind in _REFUNDS:
        reason = _refund_words(notice)
        new = await asyncio.to_thread(store.record_notice, notice, order.order_id, reason)
        log.info(
            "channel refund notice recorded",
            channel=notice.channel.value,
            order_id=order.order_id,
            trade_no=notice.trade_no,
            refund_id=notice.refund_id,
            refund_amount=str(notice.refund_amount),
            status=notice.channel_status,
            repeat=not new,
        )
        return Handled(order_id=order.order_id, outcome=notice.kind.value)
    return Handled(order_id=order.order_id, outcome="pending: nothing to do")


def _payment(notice: ChannelNotice, order_id: str, transaction_id: str) -> PaymentNotice:
    return PaymentNotice(
        order_id=order_id,
        transaction_id=transaction_id,
        amount=notice.amount,
        currency=notice.currency,
        status=_DELIVERED[notice.kind],
        channel_reference=notice.trade_no,
    )


async def _hold_unknown_trade(
    client: Client, settings: IngressSettings, notice: ChannelNotice
) -> Handled:
    """A payment for a trade no started upgrade carries: to its custody before the answer."""
    try:
        payment = _payment(notice, UNKNOWN_ORDER, notice.out_trade_no)
    except ValidationError:
        # Not one of our references (an order's transaction id is an identifier): no custody
        # can be keyed by it; refused as before, the channel re-sends and the log says why.
        log.error(
            "paid notice for a reference no order could have",
            channel=notice.channel.value,
            trade_no=notice.trade_no,
        )
        raise UnknownTrade(
            f"out_trade_no {notice.out_trade_no!r} is not a transaction id of ours"
        ) from None
    result = await notifications.hold_unknown_trade(
        client, notice.channel, payment, journal(settings)
    )
    return Handled(order_id=UNKNOWN_ORDER, outcome=f"unknown trade: {result}")


async def _order_for(client: Client, notice: ChannelNotice) -> UpgradeOrder:
    orders = await payment_orders.orders_paid_by(client, notice.out_trade_no)
    if not orders:
        raise UnknownTrade(
            f"no upgrade was started with transaction_id {notice.out_trade_no!r} (yet); "
            "nothing was recorded, send it again later"
        )
    if len(orders) > 1:
        names = ", ".join(order.order_id for order in orders)
        log.error(
            "one channel trade names several orders",
            channel=notice.channel.value,
            out_trade_no=notice.out_trade_no,
            orders=names,
        )
        raise Refused(
            f"out_trade_no {notice.out_trade_no!r} is the transaction of several orders "
            f"({names}): a person must decide",
            409,
        )
    return orders[0]
