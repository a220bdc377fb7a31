"""Delivering a verified payment notice to its order's run, idempotently, whatever the run's state;
and, when no run can apply a captured payment, to its custody before the channel is answered.

Channels re-deliver for about a day, concurrently and out of order, so every outcome is decided by
the run itself, never by a table here: the `confirm_payment` update records the first notice of a
transaction status and answers `duplicate` to repeats (and to anything once the payment is settled);
the workflow processes updates one at a time, so ten concurrent copies give one `accepted`.

A `succeeded` notice is money the channel took. When no run can apply it, it goes to the
transaction's custody (`payment-{channel}-{transaction_id}`, `client.custody.hold_payment`,
update-with-start) and the answer, `held`, comes only once the custody recorded it, so an
acknowledged payment is never lost; custody refunds it unless an order claims it within the grace
period (`docs/reliability.md`, "Held payments"). The cases:
- no run for the order yet: held (`order_not_started`); an order started later claims it by its
  own reconciliation, within the grace period. Not a `succeeded` notice (nothing taken): 404
  `order-not-started` with Retry-After, nothing recorded;
- the channel is not the order's payment method (from the run's `PaymentMethod` search
  attribute): held (`wrong_channel`); otherwise 422 naming `channel`;
- the notice disagrees with the order: another transaction (the customer paid twice): held
  (`second_transaction`); another amount or currency: held (`amount_mismatch`); otherwise the
  run's validator (or the started order, once the run has ended) names the field, 422;
- the run answered `duplicate` to a `succeeded` while its payment is recorded `failed` (the
  channel changed its mind): held (`succeeded_after_failed`);
- the run has ended (its validator refuses every notice then, and an update to a closed run fails
  at the RPC level), or is ending without a payment: the notice is checked against the order the
  run was started with, then the run's status (a query, which closed runs answer) decides: a
  payment recorded as settled means this is a re-delivery, `duplicate` (a `succeeded` after a
  recorded `failed` is held); none means the money arrived after the run ended without it: held
  (`run_ended`), and 409 `upgrade-ended` for a notice that is not a payment.

`hold_unknown_trade` is the channels' own doors' "order never started": their notices name only
the transaction (`out_trade_no`), and when no started upgrade carries it there is no order to
deliver to, so the payment goes straight to its custody (`unknown_trade`), which learns from the
channel whom it was paid for.
"""

from functools import cache
from typing import Literal

import structlog
from temporalio.client import Client

from client import custody, upgrades
from client.ack_journal import AckJournal
from client.payment_orders import started_order
from domain.custody import HeldPayment, HeldReason, HoldAck
from domain.models import PaymentMethod, PaymentNotice, PaymentStatus
from ingress import runs
from ingress.problems import Kind, ProblemError, invalid
from service.settings import Settings, load_settings

log = structlog.get_logger("ingress")

Outcome = Literal["accepted", "duplicate", "held"]
# How soon a channel should try again when the order's run does not exist yet.
NOT_STARTED_RETRY_AFTER_S = "60"
_SETTLED = {PaymentStatus.SUCCEEDED.value, PaymentStatus.FAILED.value}
# A mismatch on these fields is money the order cannot take, not a malformed notice.
_HELD_MISMATCH = {
    "transaction_id": HeldReason.SECOND_TRANSACTION,
    "amount": HeldReason.AMOUNT_MISMATCH,
    "currency": HeldReason.AMOUNT_MISMATCH,
}


@cache
def _process_settings() -> Settings:
    return load_settings()


class Held(Exception):
    """Internal: the payment went to custody; `ack` is its answer."""

    def __init__(self, ack: HoldAck) -> None:
        super().__init__(ack.custody_id)
        self.ack = ack


async def deliver(
    client: Client,
    channel: PaymentMethod,
    notice: PaymentNotice,
    journal: AckJournal | None = None,
    *,
    settings: Settings | None = None,
) -> Outcome:
    """Deliver `notice`; `held` when it went to custody (see the module docstring).

    `settings` gives the task queue and time scale a custody starts with (default: the process's
    `UPGRADE_*` settings).
    """
    delivery = _Delivery(client, channel, notice, settings or _process_settings(), journal)
    try:
        return await delivery.run(journal)
    except Held as held:
        return _held(channel, notice, held)


async def hold_unknown_trade(
    client: Client,
    channel: PaymentMethod,
    notice: PaymentNotice,
    journal: AckJournal | None = None,
    *,
    settings: Settings | None = None,
) -> Outcome:
    """Hand a captured payment whose transaction no started upgrade carries to its custody.

    `notice.order_id` is `domain.custody.UNKNOWN_ORDER`: the channel's notice names no order.
    Returns `held` once the custody recorded it.
    """
    delivery = _Delivery(client, channel, notice, settings or _process_settings(), journal)
    held = await delivery.hold(
        HeldReason.UNKNOWN_TRADE,
        f"no upgrade was started with transaction {notice.transaction_id} (yet)",
    )
    return _held(channel, notice, held)


def _held(channel: PaymentMethod, notice: PaymentNotice, held: Held) -> Outcome:
    log.warning(
        "payment held in custody",
        channel=channel.value,
        order_id=notice.order_id,
        transaction_id=notice.transaction_id,
        custody=held.ack.custody_id,
        custody_state=held.ack.state.value,
        result=held.ack.result,
    )
    return "held"


class _Delivery:
    def __init__(
        self,
        client: Client,
        channel: PaymentMethod,
        notice: PaymentNotice,
        settings: Settings,
        journal: AckJournal | None,
    ) -> None:
        self.client = client
        self.channel = channel
        self.notice = notice
        self.settings = settings
        self.journal = journal
        self.paid = notice.status is PaymentStatus.SUCCEEDED

    async def hold(self, reason: HeldReason, detail: str) -> Held:
        """Hand the payment to its custody; returns the `Held` to raise once it is recorded."""
        ack = await custody.hold_payment(
            self.client,
            self.channel,
            HeldPayment(notice=self.notice, reason=reason, detail=detail),
            task_queue=self.settings.task_queue,
            time_scale=self.settings.time_scale,
        )
        if self.journal is not None:
            # What the channel is told, for the audit: a `held` answer needs its custody.
            self.journal.record(
                "held",
                self.notice.order_id,
                ack.custody_id,
                ack.result,
                detail=f"{reason.value}: {ack.state.value}",
            )
        return Held(ack)

    async def run(self, journal: AckJournal | None) -> Outcome:
        notice = self.notice
        try:
            run = await runs.describe_run(self.client, notice.order_id)
        except upgrades.UpgradeNotFound:
            if self.paid:
                raise await self.hold(
                    HeldReason.NOT_STARTED, f"no upgrade had been started for {notice.order_id}"
                ) from None
            raise ProblemError(
                404,
                Kind.ORDER_NOT_STARTED,
                f"no upgrade has been started for order {notice.order_id!r} yet; nothing was "
                "recorded, deliver the notification again later",
                headers={"Retry-After": NOT_STARTED_RETRY_AFTER_S},
            ) from None
        if run.payment_method is not None and run.payment_method != self.channel.value:
            message = f"order {notice.order_id} is paid by {run.payment_method}, not {self.channel}"
            if self.paid:
                raise await self.hold(HeldReason.WRONG_CHANNEL, message)
            raise invalid("channel", message)
        if run.running:
            try:
                ack = await upgrades.confirm_payment(self.client, notice, journal=journal)
            except upgrades.MessageRejected as rejected:
                # The run addresses the order by its id, so `order_id` is never a mismatch: the
                # validator uses that field to say the upgrade has ended.
                if rejected.field != "order_id":
                    await self.refused(rejected.field, rejected.message)
            except upgrades.UpgradeNotFound:
                pass  # the run closed between the describe and the update
            else:
                if ack.result == "duplicate" and self.paid:
                    await self.check_not_after_failed()
                return ack.result
        return await self.after_the_end()

    async def refused(self, field: str, message: str) -> None:
        """A notice the order refuses: held when it is money on a held field; 422 otherwise."""
        reason = _HELD_MISMATCH.get(field)
        if self.paid and reason is not None:
            raise await self.hold(reason, f"{field}: {message}")
        raise invalid(field, message)

    async def check_not_after_failed(self) -> None:
        """A `succeeded` the run dismissed as a duplicate of a recorded `failed` is money taken."""
        status = await upgrades.upgrade_status(self.client, self.notice.order_id)
        if status.payment.status == PaymentStatus.FAILED.value:
            raise await self.hold(
                HeldReason.SUCCEEDED_AFTER_FAILED,
                f"the upgrade recorded the payment as failed ({status.stage}: {status.reason})",
            )

    async def after_the_end(self) -> Outcome:
        notice = self.notice
        order = await started_order(self.client, notice.order_id)
        mismatch = notice.mismatch_with(order)
        if mismatch is not None:
            await self.refused(mismatch.field, mismatch.message)
        status = await upgrades.upgrade_status(self.client, notice.order_id)
        if status.payment.status in _SETTLED:
            if self.paid and status.payment.status == PaymentStatus.FAILED.value:
                raise await self.hold(
                    HeldReason.SUCCEEDED_AFTER_FAILED,
                    f"the upgrade ended {status.stage} with the payment failed",
                )
            return "duplicate"
        ended = f"the upgrade ended ({status.stage.value}: {status.reason})"
        if self.paid:
            raise await self.hold(HeldReason.RUN_ENDED, f"{ended} before a payment was recorded")
        log.warning(
            "payment notice after the upgrade ended",
            order_id=notice.order_id,
            transaction_id=notice.transaction_id,
            notice_status=notice.status.value,
            stage=status.stage.value,
        )
        raise ProblemError(
            409,
            Kind.UPGRADE_ENDED,
            f"{ended} before a payment was recorded; this {notice.status.value} notice for "
            f"transaction {notice.transaction_id} changes nothing",
            field="order_id",
        )
