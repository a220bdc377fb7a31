"""Bank statement lines against the open corporate-transfer orders: confirm, or hand to a person.

Per line, in file order:

- a `bank_reference` already seen (an earlier import) is skipped: importing a file twice, or
  two overlapping statements, changes nothing;
- the memo's reference codes (`channels.reference.scan_memo`) name the order; a line is
  `matched` only with exactly one code, of exactly one open order, for exactly its amount and
  currency;
- otherwise it is for a person: `unmatched` (no code, a mistyped code, or no open order has
  it), `ambiguous` (several codes, or a code shared by several open orders), `wrong_amount`
  (one order, another amount or currency), `duplicate` (an order already matched by an earlier
  line of this statement: a second payment). Nothing is ever dropped.

Never by amount alone: two orders of the same price are common, a code is not.

Boundary: pure; the caller supplies the open orders and the seen references, and records the
outcome (confirmations to the orders' runs, the rest durably for review).
"""

from collections import defaultdict
from collections.abc import Collection, Iterable
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from channels.reference import scan_memo
from channels.statement import StatementLine
from domain.frozen import StrictFrozen


class OpenOrder(StrictFrozen):
    """A corporate-transfer order waiting for its money."""

    order_id: str
    reference: str
    amount: Decimal = Field(gt=0)
    currency: str = "CNY"


class MatchKind(StrEnum):
    MATCHED = "matched"
    UNMATCHED = "unmatched"
    AMBIGUOUS = "ambiguous"
    WRONG_AMOUNT = "wrong_amount"
    DUPLICATE = "duplicate"


class LineOutcome(StrictFrozen):
    line: StatementLine
    kind: MatchKind
    order_id: str | None = None  # the one order (matched, wrong_amount, duplicate)
    candidates: tuple[str, ...] = ()  # every open order the memo named
    reason: str


class StatementMatch(StrictFrozen):
    outcomes: tuple[LineOutcome, ...]
    already_imported: tuple[str, ...] = ()  # bank references skipped as seen before

    @property
    def matched(self) -> tuple[LineOutcome, ...]:
        return tuple(o for o in self.outcomes if o.kind is MatchKind.MATCHED)

    @property
    def for_review(self) -> tuple[LineOutcome, ...]:
        return tuple(o for o in self.outcomes if o.kind is not MatchKind.MATCHED)


def match_statement(
    lines: Iterable[StatementLine],
    open_orders: Iterable[OpenOrder],
    seen_bank_references: Collection[str] = frozenset(),
) -> StatementMatch:
    """Each new line's outcome; lines whose bank reference was seen before are only listed."""
    by_reference: dict[str, list[OpenOrder]] = defaultdict(list)
    for order in open_orders:
        by_reference[order.reference].append(order)
    matched_by_line: dict[str, int] = {}
    outcomes: list[LineOutcome] = []
    skipped: list[str] = []
    for line in lines:
        if line.bank_reference in seen_bank_references:
            skipped.append(line.bank_reference)
            continue
        outcome = _match_line(line, by_reference, matched_by_line)
        if outcome.kind is MatchKind.MATCHED and outcome.order_id is not None:
            matched_by_line[outcome.order_id] = line.line_number
        outcomes.append(outcome)
    return StatementMatch(outcomes=tuple(outcomes), already_imported=tuple(skipped))


def _match_line(
    line: StatementLine,
    by_reference: dict[str, list[OpenOrder]],
    matched_by_line: dict[str, int],
) -> LineOutcome:
    scan = scan_memo(line.memo)
    notes = "".join(f"; {rejected}" for rejected in scan.rejected)
    candidates = tuple(o.order_id for code in scan.codes for o in by_reference.get(code, ()))
    if not scan.codes:
        reason = "no reference code in the memo" + notes
        return LineOutcome(line=line, kind=MatchKind.UNMATCHED, reason=reason)
    if len(scan.codes) > 1:
        reason = f"several reference codes in the memo: {', '.join(scan.codes)}{notes}"
        return LineOutcome(
            line=line, kind=MatchKind.AMBIGUOUS, candidates=candidates, reason=reason
        )
    code = scan.codes[0]
    if not candidates:
        reason = f"{code} is not the code of an open order{notes}"
        return LineOutcome(line=line, kind=MatchKind.UNMATCHED, reason=reason)
    if len(candidates) > 1:
        reason = f"{code} is the code of several open orders: {', '.join(candidates)}"
        return LineOutcome(
            line=line, kind=MatchKind.AMBIGUOUS, candidates=candidates, reason=reason
        )
    order = by_reference[code][0]
    common = {"line": line, "order_id": order.order_id, "candidates": candidates}
    if order.order_id in matched_by_line:
        reason = (
            f"order {order.order_id} was already matched by line "
            f"{matched_by_line[order.order_id]} of this statement (a second payment?)"
        )
        return LineOutcome(kind=MatchKind.DUPLICATE, reason=reason, **common)
    if (line.amount, line.currency) != (order.amount, order.currency):
        reason = (
            f"{line.amount:.2f} {line.currency} received, order {order.order_id} "
            f"expects {order.amount:.2f} {order.currency}"
        )
        return LineOutcome(kind=MatchKind.WRONG_AMOUNT, reason=reason, **common)
    reason = f"{code} and {line.amount:.2f} {line.currency} match order {order.order_id}"
    return LineOutcome(kind=MatchKind.MATCHED, reason=reason, **common)
