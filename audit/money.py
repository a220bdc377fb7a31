"""The audit's money check: every captured payment ends applied to exactly one `active` order or
refunded, per transaction and per account.

For each transaction the channel knows (`audit.money_facts`), once nothing still decides its fate
(its custody is closed, the run of the order that claims it, or was paid for, is not running):

- `money_refunded_twice`: refunds add up to more than the channel captured;
- `money_refunded_applied`: claimed by an order that ended `active`, yet refunded in full;
- `money_stranded`: captured, not applied to an `active` order, and not refunded in full (the
  money stays with us and nobody gets a product for it);
- `money_unbalanced` (per account, over its claimed transactions): captured differs from applied
  to `active` orders plus refunded;
- `lost_notice`: a channel was answered `held` (the journal's `held` acknowledgements), yet
  Temporal has no such custody: an acknowledged payment with no record.

"Captured" is the channel's amount of a `succeeded` transaction; a transaction the channel still
reads pending counts with its amount when a notification paid an order with it (it was claimed
and applied, or refunded), and as nothing otherwise. Transactions still deciding are listed as a
note, never judged.

Boundary: pure functions over facts, no I/O; wired into the report by `audit.checks`.
"""

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from audit.facts import RunFacts, Violation, ViolationKind
from audit.money_facts import MoneyFacts, TransactionMoney
from client.ack_journal import AckRecord
from domain.moments import utc_stamp
from domain.stages import Stage

ZERO = Decimal(0)


def _last_runs(runs: Iterable[RunFacts]) -> dict[str, RunFacts]:
    """Each order's latest run (the end of its chain)."""
    latest: dict[str, RunFacts] = {}
    for run in runs:
        seen = latest.get(run.order_id)
        if seen is None or run.started_at >= seen.started_at:
            latest[run.order_id] = run
    return latest


def _captured(t: TransactionMoney, applied: bool) -> Decimal:
    if t.status == "succeeded":
        return t.captured
    if t.status == "failed":
        return ZERO
    return t.amount if (applied or t.refunds) else ZERO


def check_money(
    money: MoneyFacts, runs: Iterable[RunFacts], held_acks: Iterable[AckRecord] = ()
) -> tuple[list[Violation], list[str]]:
    """Violations and notes of money conservation (see the module docstring)."""
    last = _last_runs(runs)
    violations: list[Violation] = []
    notes: list[str] = []
    open_: list[str] = []
    accounts: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])

    def flag(order_id: str, kind: ViolationKind, reason: str) -> None:
        violations.append(Violation(order_id=order_id, kind=kind, reason=reason))

    for t in money.transactions:
        owner = t.claimed_by or t.order_id
        run = last.get(owner)
        if t.transaction_id in money.held or (run is not None and run.status == "running"):
            open_.append(t.transaction_id)
            continue
        applied = (
            t.claimed_by is not None
            and run is not None
            and run.status == "completed"
            and run.stage == Stage.ACTIVE.value
        )
        captured = _captured(t, applied)
        refunded = t.refunded
        what = f"transaction {t.transaction_id}: captured {captured}, refunded {refunded}"
        if refunded > captured:
            flag(owner, "money_refunded_twice", f"{what} in {len(t.refunds)} refund(s)")
        elif applied and captured > ZERO and refunded >= captured:
            flag(owner, "money_refunded_applied", f"{what}, yet applied to active order {owner}")
        elif not applied and refunded < captured:
            if run is None:
                where = f"order {owner} has no run and no custody holds it"
            else:
                where = f"order {owner} ended {run.stage or run.status} without applying it"
            flag(owner, "money_stranded", f"{what}; {where}")
        if t.account_id is not None:
            totals = accounts[t.account_id]
            totals[0] += captured
            totals[1] += captured - refunded if applied else ZERO
            totals[2] += refunded
    for account, (taken, kept, given_back) in sorted(accounts.items()):
        if taken != kept + given_back:
            flag(account, "money_unbalanced", f"account {account}: captured {taken}, "
                 f"applied to active orders {kept}, refunded {given_back}")  # fmt: skip
    for ack in held_acks:
        if ack.workflow_id not in money.custodies:
            flag(ack.order_id, "lost_notice", f"payment held at {utc_stamp(ack.at)} "
                 f"({ack.workflow_id} acknowledged to the channel), but Temporal has no such "
                 "custody")  # fmt: skip
    if open_:
        shown = ", ".join(sorted(open_)[:5]) + (" ..." if len(open_) > 5 else "")
        notes.append(f"{len(open_)} payment(s) still held or in a running upgrade: {shown}")
    return violations, notes
