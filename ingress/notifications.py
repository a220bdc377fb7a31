"""Delivering a verified payment notice to its order's run, idempotently, whatever the run's state.

Channels re-deliver for about a day, concurrently and out of order, so every outcome is decided by
the run itself, never by a table here: the `confirm_payment` update records the first notice of a
transaction status and answers `duplicate` to repeats (and to anything once the payment is settled);
the workflow processes updates one at a time, so ten concurrent copies give one `accepted`.

The cases around it:
- no run for the order yet: 404 `order-not-started` with Retry-After; nothing is recorded, so the
  channel's next delivery (after the backend has started the upgrade) is accepted;
- the channel is not the order's payment method (from the run's `PaymentMethod` search
  attribute): 422 naming `channel`;
- the notice disagrees with the order (transaction, amount, currency): the run's validator refuses
  it, 422 naming the field;
- the run has ended (its validator refuses every notice then, and an update to a closed run fails
  at the RPC level): the notice is checked against the order the run was started with, then the
  run's final status (a query, which closed runs answer) decides: a payment recorded as settled
  means this is a re-delivery, `duplicate`; none means the money arrived after the run ended
  without it (expired, cancelled), 409 `upgrade-ended` for a person to refund.
"""

from typing import Literal

import structlog
from temporalio.client import Client

from client import upgrades
from client.ack_journal import AckJournal
from domain.models import PaymentMethod, PaymentNotice, PaymentStatus
from ingress import runs
from ingress.problems import Kind, ProblemError, invalid

log = structlog.get_logger("ingress")

Outcome = Literal["accepted", "duplicate"]
# How soon a channel should try again when the order's run does not exist yet.
NOT_STARTED_RETRY_AFTER_S = "60"
_SETTLED = {PaymentStatus.SUCCEEDED.value, PaymentStatus.FAILED.value}


async def deliver(
    client: Client, channel: PaymentMethod, notice: PaymentNotice, journal: AckJournal | None = None
) -> Outcome:
    try:
        run = await runs.describe_run(client, notice.order_id)
    except upgrades.UpgradeNotFound:
        raise ProblemError(
            404,
            Kind.ORDER_NOT_STARTED,
            f"no upgrade has been started for order {notice.order_id!r} yet; nothing was "
            "recorded, deliver the notification again later",
            headers={"Retry-After": NOT_STARTED_RETRY_AFTER_S},
        ) from None
    if run.payment_method is not None and run.payment_method != channel.value:
        raise invalid(
            "channel",
            f"order {notice.order_id} is paid by {run.payment_method}, not {channel.value}",
        )
    if run.running:
        try:
            ack = await upgrades.confirm_payment(client, notice, journal=journal)
            return ack.result
        except upgrades.MessageRejected as rejected:
            # The run addresses the order by its id, so `order_id` is never a mismatch: the
            # validator uses that field to say the upgrade has ended.
            if rejected.field != "order_id":
                raise invalid(rejected.field, rejected.message) from None
        except upgrades.UpgradeNotFound:
            pass  # the run closed between the describe and the update
    return await _after_the_end(client, notice)


async def _after_the_end(client: Client, notice: PaymentNotice) -> Outcome:
    order = await runs.started_order(client, notice.order_id)
    mismatch = notice.mismatch_with(order)
    if mismatch is not None:
        raise invalid(mismatch.field, mismatch.message)
    status = await upgrades.upgrade_status(client, notice.order_id)
    if status.payment.status in _SETTLED:
        return "duplicate"
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
        f"the upgrade ended ({status.stage.value}: {status.reason}) before a payment was "
        f"recorded; transaction {notice.transaction_id} needs a person (refund)",
        field="order_id",
    )
