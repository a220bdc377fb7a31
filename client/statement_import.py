"""Importing a bank statement: confirm the corporate transfers it pays, keep the rest for a person.

One implementation for `starter.py import-statement FILE` and the ingress's
`POST /v1/payments/statements`:

1. the file is parsed strictly (`channels.statement`): a bad file changes nothing and every bad
   line is named;
2. lines whose bank reference an earlier import recorded are skipped (the idempotency key:
   importing a file twice, or overlapping statements, changes nothing);
3. the rest are matched against the corporate transfers that still await their money
   (`client.payment_orders.open_transfers`, `channels.matching`);
4. a matched line confirms its order's payment (`confirm_payment`, idempotent on the
   transaction), then is recorded as `matched`; a line the run refuses (it has ended, say) is
   recorded `undelivered` for a person; every other line is recorded with its outcome
   (`unmatched`, `ambiguous`, `wrong_amount`, `duplicate`) for a person. Nothing is dropped.

A line is recorded only after its outcome is settled. When Temporal does not answer (a timeout,
an RPC error) the line is left unrecorded and reported `retry`: importing the file again picks
it up, and the confirmation it may already have made answers `duplicate`.

Boundary: orchestration; parsing and matching are `channels`, storage `client.review_store`.
"""

import asyncio

from pydantic import BaseModel, ConfigDict
from temporalio.client import Client
from temporalio.service import RPCError

from channels.matching import LineOutcome, MatchKind, match_statement
from channels.statement import parse_statement
from client import payment_orders, upgrades
from client.ack_journal import AckJournal
from client.review_store import MATCHED, UNDELIVERED, ReviewStore
from domain.models import PaymentNotice, PaymentStatus, UpgradeOrder

RETRY = "retry"
# How long one confirmation may wait for its run (a worker must be running).
CONFIRM_TIMEOUT_S = 30.0


class LineResult(BaseModel):
    """What became of one line of this import."""

    model_config = ConfigDict(frozen=True)
    line_number: int
    bank_reference: str
    amount: str
    currency: str
    memo: str
    outcome: str  # matched | unmatched | ambiguous | wrong_amount | duplicate | undelivered | retry
    order_id: str | None = None
    candidates: list[str] = []
    reason: str


class ImportReport(BaseModel):
    model_config = ConfigDict(frozen=True)
    source: str
    lines: list[LineResult]
    already_imported: list[str]

    @property
    def for_review(self) -> list[LineResult]:
        return [line for line in self.lines if line.outcome not in (MATCHED, RETRY)]

    @property
    def to_retry(self) -> list[LineResult]:
        return [line for line in self.lines if line.outcome == RETRY]


def _result(outcome: LineOutcome, kind: str, reason: str) -> LineResult:
    line = outcome.line
    return LineResult(
        line_number=line.line_number,
        bank_reference=line.bank_reference,
        amount=f"{line.amount:.2f}",
        currency=line.currency,
        memo=line.memo,
        outcome=kind,
        order_id=outcome.order_id,
        candidates=list(outcome.candidates),
        reason=reason,
    )


async def import_statement(
    client: Client,
    text: str,
    *,
    source: str,
    store: ReviewStore,
    journal: AckJournal | None = None,
    confirm_timeout_s: float = CONFIRM_TIMEOUT_S,
) -> ImportReport:
    """Import the statement `text` (raises `channels.statement.StatementError` for a bad file)."""
    lines = parse_statement(text)
    seen = await asyncio.to_thread(store.seen_references, [ln.bank_reference for ln in lines])
    orders = {o.order_id: o for o in await payment_orders.open_transfers(client)}
    match = match_statement(lines, [payment_orders.as_open_order(o) for o in orders.values()], seen)
    results: list[LineResult] = []
    for outcome in match.outcomes:
        kind, reason = outcome.kind.value, outcome.reason
        if outcome.kind is MatchKind.MATCHED and outcome.order_id is not None:
            order = orders[outcome.order_id]
            try:
                kind, reason = await _confirm(client, order, outcome, journal, confirm_timeout_s)
            except (upgrades.MessageTimeout, RPCError, TimeoutError) as error:
                # Not recorded: the next import of this file tries the line again.
                results.append(_result(outcome, RETRY, f"not confirmed, import again: {error}"))
                continue
        await asyncio.to_thread(store.record_line, outcome, source, kind=kind, reason=reason)
        results.append(_result(outcome, kind, reason))
    return ImportReport(source=source, lines=results, already_imported=list(match.already_imported))


async def _confirm(
    client: Client,
    order: UpgradeOrder,
    outcome: LineOutcome,
    journal: AckJournal | None,
    timeout_s: float,
) -> tuple[str, str]:
    notice = PaymentNotice(
        order_id=order.order_id,
        transaction_id=order.transaction_id,
        amount=outcome.line.amount,
        currency=outcome.line.currency,
        status=PaymentStatus.SUCCEEDED,
    )
    try:
        ack = await upgrades.confirm_payment(client, notice, journal=journal, timeout_s=timeout_s)
    except upgrades.MessageRejected as rejected:
        return UNDELIVERED, f"order {order.order_id} refused the payment: {rejected.message}"
    except upgrades.UpgradeNotFound:
        return UNDELIVERED, f"order {order.order_id} has no run any more"
    return MATCHED, f"{outcome.reason}: payment confirmed ({ack.result})"
