"""The audit's money check fed each violating case, and clean cases that must stay clean: every
captured payment applied to exactly one `active` order or refunded, per transaction and account.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from audit.checks import audit
from audit.facts import AuditFacts, RunFacts
from audit.money import check_money
from audit.money_facts import MoneyFacts, RefundFact, TransactionMoney
from audit.scope import scope_prefix

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def run(order_id: str, stage: str = "active", status: str = "completed") -> RunFacts:
    return RunFacts(order_id=order_id, workflow_id=f"upgrade-{order_id}", run_id=f"r-{order_id}",
                    chain_id=f"r-{order_id}", status=status, started_at=T0,
                    chain_started_at=T0, stage=stage)  # fmt: skip


def refund(amount: str, order_id: str = "ORD-1", custody: str | None = None) -> RefundFact:
    return RefundFact(refund_id=f"rf-{amount}-{custody}", order_id=order_id, custody=custody,
                      amount=Decimal(amount))  # fmt: skip


def txn(
    transaction_id: str = "tx-1",
    *,
    order_id: str = "ORD-1",
    captured: str = "600.00",
    status: str = "succeeded",
    claimed_by: str | None = "ORD-1",
    account_id: str | None = "acct-1",
    refunds: tuple[RefundFact, ...] = (),
) -> TransactionMoney:
    return TransactionMoney(
        transaction_id=transaction_id, order_id=order_id, method="alipay", status=status,
        captured=Decimal(captured), amount=Decimal("600.00"), claimed_by=claimed_by,
        account_id=account_id, refunds=refunds,
    )  # fmt: skip


def kinds(transactions: list[TransactionMoney], runs: list[RunFacts], **kw: Any) -> list[str]:
    violations, _ = check_money(MoneyFacts(transactions=tuple(transactions), **kw), runs)
    return sorted({v.kind for v in violations})


# --------------------------------------------------------------------------------------- clean
@pytest.mark.parametrize(
    ("transaction", "stage"),
    [
        pytest.param(txn(), "active", id="applied"),
        pytest.param(txn(refunds=(refund("100.00"),)), "active", id="applied-surplus-refunded"),
        pytest.param(txn(refunds=(refund("600.00"),)), "cancelled", id="cancelled-refunded"),
        pytest.param(txn(status="failed", captured="0"), "failed", id="never-charged"),
        pytest.param(
            txn(claimed_by=None, account_id=None, refunds=(refund("600.00", custody="c"),)),
            "expired",
            id="custody-refunded",
        ),
        pytest.param(
            txn(refunds=(refund("300.00"), refund("300.00"))), "failed", id="two-partial-refunds"
        ),
        # Paid by a notification while the channel's own status still reads pending.
        pytest.param(txn(status="pending", captured="0"), "active", id="pushed-and-applied"),
    ],
)
def test_balanced_money_is_clean(transaction: TransactionMoney, stage: str) -> None:
    assert kinds([transaction], [run("ORD-1", stage)]) == []


def test_undecided_money_is_a_note_not_a_verdict() -> None:
    orphan = txn("tx-held", order_id="ORD-GHOST", claimed_by=None, account_id=None)
    running = txn("tx-run", order_id="ORD-2", claimed_by=None)
    violations, notes = check_money(
        MoneyFacts(transactions=(orphan, running), held=frozenset({"tx-held"})),
        [run("ORD-2", "awaiting_payment", status="running")],
    )
    assert violations == [] and "2 payment(s) still held" in notes[0]


# ----------------------------------------------------------------------------------- violations
def test_money_with_no_run_and_no_custody_is_stranded() -> None:
    # The 404 of today: the channel took it, nothing recorded it.
    orphan = txn(order_id="ORD-GHOST", claimed_by=None, account_id=None)
    violations, _ = check_money(MoneyFacts(transactions=(orphan,)), [])
    [v] = violations
    assert (v.kind, v.order_id) == ("money_stranded", "ORD-GHOST")
    assert "no run and no custody" in v.reason


def test_money_kept_by_an_order_that_did_not_activate_is_stranded() -> None:
    assert kinds([txn()], [run("ORD-1", "cancelled")]) == ["money_stranded", "money_unbalanced"]
    partly = txn(refunds=(refund("599.00"),))
    assert kinds([partly], [run("ORD-1", "expired")]) == ["money_stranded", "money_unbalanced"]


def test_refunded_more_than_captured() -> None:
    twice = txn(refunds=(refund("600.00"), refund("600.00", custody="c")))
    assert "money_refunded_twice" in kinds([twice], [run("ORD-1", "failed")])


def test_refunded_although_applied() -> None:
    applied = txn(refunds=(refund("600.00"),))
    assert kinds([applied], [run("ORD-1", "active")]) == ["money_refunded_applied"]


def test_an_account_that_does_not_balance() -> None:
    # Per transaction both are flagged; the account's totals say the same from its side.
    ok = txn("tx-ok")
    over = txn("tx-over", claimed_by="ORD-2", refunds=(refund("700.00", "ORD-2"),))
    violations, _ = check_money(
        MoneyFacts(transactions=(ok, over)), [run("ORD-1"), run("ORD-2", "cancelled")]
    )
    [account] = [v for v in violations if v.kind == "money_unbalanced"]
    assert account.order_id == "acct-1" and "captured 1200.00" in account.reason


# ------------------------------------------------------------------------------ in the report
def test_the_report_carries_money_and_ignores_custody_ledger_entries() -> None:
    from audit.facts import LedgerEntry

    custody_refund = LedgerEntry(
        seq=1, system="payments", action="refund_payment", order_id="payment-alipay-tx-9",
        key="payment-alipay-tx-9:refund", at=T0, detail={"custody": "payment-alipay-tx-9"},
    )  # fmt: skip
    orphan = txn("tx-9", order_id="ORD-GHOST", claimed_by=None, account_id=None,
                 refunds=(refund("600.00", "ORD-GHOST", custody="payment-alipay-tx-9"),))  # fmt: skip
    stranded = txn("tx-10", order_id="ORD-LOST", claimed_by=None, account_id=None)
    facts = AuditFacts(
        now=T0 + timedelta(minutes=5), ledger=(custody_refund,),
        money=MoneyFacts(transactions=(orphan, stranded)),
    )  # fmt: skip
    report = audit(facts)
    # The custody's refund is not an order without a run; the unrefunded orphan is a loss.
    assert [(v.order_id, v.kind) for v in report.violations] == [("ORD-LOST", "money_stranded")]
    assert report.summary.lost == 1
    assert audit(scope_prefix(facts, "ORD-GHOST")).clean


def test_a_held_answer_needs_its_custody() -> None:
    from client.ack_journal import AckRecord

    held = AckRecord(at=T0, kind="held", order_id="ORD-GHOST", workflow_id="payment-alipay-tx-7",
                     result="accepted", detail="order_not_started: holding")  # fmt: skip
    kept = MoneyFacts(custodies=frozenset({"payment-alipay-tx-7"}))
    assert check_money(kept, [], [held]) == ([], [])
    violations, _ = check_money(MoneyFacts(), [], [held])
    [v] = violations
    assert (v.order_id, v.kind) == ("ORD-GHOST", "lost_notice")
    assert "payment-alipay-tx-7 acknowledged to the channel" in v.reason
    # In the report: a `held` answer is not an order's acknowledgement (no missing run).
    report = audit(AuditFacts(now=T0, acks=(held,), money=kept))
    assert report.clean, report.violations
