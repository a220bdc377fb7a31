"""The audit's judgement: pure checks over collected facts, one violation per broken promise.

Three views of the same orders are joined (`AuditFacts`): what clients were told (the
acknowledgement journal), what the platform applied (the sandbox effects ledger) and what Temporal
ran (every run of `upgrade-activation`, with its input, final status and task failures). A paid
upgrade must not be lost, applied twice or left silently stuck; each check below names one way it
could be, and reports the order id with a one-line reason:

- `duplicate_run` / `missing_run`: more or fewer than one run (chain) per order. Runs linked by
  continue-as-new share their first run id and count as one.
- `lost_run`: the run closed without reaching a terminal stage (failed, terminated, timed out),
  or contradicts a terminal stage a client was told.
- `stuck_run`: still running past its expected time (from the policy fixed in its input, already
  divided by the time scale) plus a recovery slack. A run waiting for a person (needs_attention,
  or escalated after payment) is not silent and is reported as a note instead.
- `duplicate_effect`: one idempotency key applied twice, or one logical effect (billing update,
  allocation, config version, entitlement grant, refund, ticket, ...) applied under two keys.
- `effects_not_netted`: a failed, cancelled or expired order whose effects do not cancel out
  (billing reverted, allocation released, config rolled back, entitlements deactivated, refund
  when it was paid, tickets closed); or an active order whose effects were undone (the refund of
  an approved overpayment's surplus is not an undo: the money check judges its amount).
- `lost_notice`: an accepted payment confirmation, yet the order expired for lack of payment.
- `task_failure`: a workflow task failed (a bug or non-determinism) in any history.
- `platform_mismatch` (reported for `account:<id>` or `app:<id>`): across orders, billing,
  entitlements or a region's served config differ from the fold of the orders that ended active
  (`audit.consistency`).
- `money_*`: money conservation per transaction and per account (`audit.money`). The effects of a
  held payment's custody (ledger entries under `payment-{channel}-{transaction_id}`) are judged
  there, by the money they moved, not as an order's.

Boundary: no I/O and no clock; the collector (`audit.collect`) gathers the facts, `audit.facts`
holds their models, `audit.scope` narrows them to some orders.

Slightly over ~300 lines: one class walks the checks in the order a reader audits an order.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from audit.consistency import check_platform
from audit.facts import (
    DEFAULT_SLACK,
    DUPLICATION_KINDS,
    LOSS_KINDS,
    AuditFacts,
    AuditReport,
    AuditSummary,
    LedgerEntry,
    RunFacts,
    Violation,
    ViolationKind,
)
from audit.money import check_money
from client.ack_journal import AckRecord
from domain.custody import is_custody_id
from domain.effects import SURPLUS_REFUND_STEP, UNDONE_BY, Effect
from domain.eta import remaining_plan
from domain.moments import utc_stamp
from domain.stages import Stage

__all__ = ["DEFAULT_SLACK", "audit", "expected_end"]


# Logical effects that happen at most once per order (plus a qualifier from the detail): a second
# entry under another key means the platform applied it twice.
_ONCE_PER_ORDER: dict[str, str | None] = {
    Effect.RECONCILE_ORDER: None,
    Effect.UPDATE_BILLING_PLAN: None,
    Effect.REVERT_BILLING_PLAN: None,
    Effect.ALLOCATE_RESOURCES: None,
    Effect.RELEASE_ALLOCATION: None,
    Effect.GENERATE_MEDIA_PROFILE: None,
    Effect.PUBLISH_CONFIG_VERSION: None,
    Effect.ROLLBACK_CONFIG: None,
    Effect.ACTIVATE_ENTITLEMENTS: None,
    Effect.DEACTIVATE_ENTITLEMENTS: None,
    # Several (partial) refunds per order are legitimate (an overpayment's surplus, then the
    # unwinding); each has its own refund id. Refunding more than was captured is judged by the
    # money check (`money_refunded_twice`), which knows what the channel took.
    Effect.REFUND_PAYMENT: "refund_id",
    Effect.ESCALATE: "reason",
    Effect.CLOSE_TICKET: "ticket_id",
    Effect.NOTIFY_CUSTOMER: "outcome",
}

# What the audit says when a forward effect of an order that did not end active was not undone.
_NOT_UNDONE = {
    Effect.UPDATE_BILLING_PLAN: "billing not reverted",
    Effect.ALLOCATE_RESOURCES: "allocation not released",
    Effect.PUBLISH_CONFIG_VERSION: "config not rolled back",
    Effect.ACTIVATE_ENTITLEMENTS: "entitlements not deactivated",
}
# Forward effect -> its compensation: both or neither for an order that did not end active.
_NETTING = tuple((forward, undo, _NOT_UNDONE[forward]) for forward, undo in UNDONE_BY.items())
_UNDO_EFFECTS = (*UNDONE_BY.values(), Effect.REFUND_PAYMENT)
_KEPT_BY_ACTIVE = (
    Effect.UPDATE_BILLING_PLAN,
    Effect.PUBLISH_CONFIG_VERSION,
    Effect.ACTIVATE_ENTITLEMENTS,
)
_WAITING_FOR_A_PERSON = frozenset({Stage.NEEDS_ATTENTION.value})


def _surplus_refund(entry: LedgerEntry) -> bool:
    return entry.effect == Effect.REFUND_PAYMENT and entry.key.endswith(f":{SURPLUS_REFUND_STEP}")


def _seconds(delta: timedelta) -> str:
    return f"{delta.total_seconds():.1f}s"


def expected_end(run: RunFacts) -> datetime | None:
    """The latest moment the chain should be terminal by, from its policy; None if unknown.

    After payment: the activation SLA or the sum of the latest windows of the stages after payment,
    whichever is longer. Before: the payment's hard expiry, plus all of that (a payment may land
    at the last moment).
    """
    policy = run.policy
    if policy is None:
        return None
    after_payment = sum(
        (window.latest for stage, window, _ in remaining_plan(policy, "payment")
         if stage is not Stage.AWAITING_PAYMENT),
        timedelta(0),
    )  # fmt: skip
    activation = max(policy.activation_sla, after_payment)
    if run.activation_deadline is not None:
        paid_at = run.activation_deadline - policy.activation_sla
        return paid_at + activation
    return run.chain_started_at + policy.payment_expiry + activation


class _Auditor:
    def __init__(self, facts: AuditFacts, slack: timedelta) -> None:
        self.facts = facts
        self.slack = slack
        self.violations: list[Violation] = []
        self.notes: list[str] = []

    def flag(self, order_id: str, kind: ViolationKind, reason: str) -> None:
        self.violations.append(Violation(order_id=order_id, kind=kind, reason=reason))

    def run(self) -> AuditReport:
        facts = self.facts
        acks = defaultdict(list)
        for ack in facts.acks:
            # A `held` answer is the custody's, judged by the money check, not the order's run.
            if ack.kind != "held":
                acks[ack.order_id].append(ack)
        ledger = defaultdict(list)
        for entry in facts.ledger:
            if not is_custody_id(entry.order_id):
                ledger[entry.order_id].append(entry)
        runs = defaultdict(list)
        for run in facts.runs:
            runs[run.order_id].append(run)
        orders = sorted(set(acks) | set(ledger) | set(runs))
        stages: Counter[str] = Counter()
        for order_id in orders:
            final = self.check_runs(order_id, acks[order_id], runs[order_id], ledger[order_id])
            stages[final or "unknown"] += 1
            self.check_acks(order_id, acks[order_id], final)
            self.check_effects(order_id, ledger[order_id])
            chain = self.single_chain(runs[order_id])
            if final is not None and chain is not None:
                self.check_netting(order_id, final, chain[-1], ledger[order_id])
        mismatches, waiting = check_platform(facts.platform)
        self.violations += mismatches
        self.notes += waiting
        if facts.money is not None:
            held = [a for a in facts.acks if a.kind == "held"]
            money_violations, money_notes = check_money(facts.money, facts.runs, held)
            self.violations += money_violations
            self.notes += money_notes
        if facts.torn_acks:
            self.notes.append(f"{facts.torn_acks} unreadable line(s) in the journal were skipped")
        return self.report(orders, stages)

    @staticmethod
    def chains(order_runs: Iterable[RunFacts]) -> dict[str, list[RunFacts]]:
        grouped: dict[str, list[RunFacts]] = defaultdict(list)
        for run in order_runs:
            grouped[run.chain_id].append(run)
        for chain in grouped.values():
            chain.sort(key=lambda r: r.started_at)
        return grouped

    def single_chain(self, order_runs: list[RunFacts]) -> list[RunFacts] | None:
        chains = self.chains(order_runs)
        return next(iter(chains.values())) if len(chains) == 1 else None

    def check_runs(
        self,
        order_id: str,
        order_acks: list[AckRecord],
        order_runs: list[RunFacts],
        order_ledger: list[LedgerEntry],
    ) -> str | None:
        """Run count, task failures, how the chain ended or why it is still running; returns the
        order's final stage if it reached one."""
        for run in order_runs:
            for failure in run.task_failures:
                self.flag(order_id, "task_failure", f"run {run.run_id}: workflow task failed: "
                          f"{failure}")  # fmt: skip
        chains = self.chains(order_runs)
        started = [a for a in order_acks if a.kind == "start"]
        if len(chains) > 1:
            ids = ", ".join(f"{c[0].run_id} ({c[-1].status})" for c in chains.values())
            self.flag(order_id, "duplicate_run", f"{len(chains)} runs for one order: {ids}")
            return None
        if not chains:
            if started:
                self.flag(order_id, "missing_run", f"start acknowledged at {utc_stamp(started[0].at)} "
                          f"(run {started[0].run_id}), but Temporal has no run")  # fmt: skip
            elif order_acks:
                self.flag(order_id, "missing_run", f"{order_acks[0].kind} acknowledged at "
                          f"{utc_stamp(order_acks[0].at)}, but Temporal has no run")  # fmt: skip
            elif order_ledger:
                self.flag(order_id, "missing_run", f"{len(order_ledger)} platform effect(s) "
                          f"(first {order_ledger[0].effect}) but no run in Temporal")  # fmt: skip
            return None
        chain = next(iter(chains.values()))
        known = {r.run_id for r in chain}
        for ack in started:
            if ack.run_id and ack.run_id not in known:
                self.flag(order_id, "missing_run", f"start acknowledged run {ack.run_id}, but "
                          f"Temporal has only {', '.join(sorted(known))}")  # fmt: skip
        last = chain[-1]
        if last.status == "running":
            self.check_progress(order_id, last)
            return None
        if last.status != "completed" or last.stage is None:
            self.flag(order_id, "lost_run", f"run {last.run_id} closed as {last.status} without "
                      f"a terminal stage (last stage {last.stage or 'unknown'})")  # fmt: skip
            return None
        return last.stage

    def check_progress(self, order_id: str, run: RunFacts) -> None:
        bound = expected_end(run)
        if bound is None or self.facts.now <= bound + self.slack:
            return
        late = self.facts.now - bound
        where = f"in stage {run.stage or 'unknown'}" + (f" ({run.pending})" if run.pending else "")
        if run.stage in _WAITING_FOR_A_PERSON or (
            run.escalated and run.activation_deadline is not None
        ):
            self.notes.append(
                f"{order_id}: {_seconds(late)} past its expected end {where}, escalated: waits "
                "for a person"
            )
            return
        self.flag(order_id, "stuck_run", f"not terminal {_seconds(late)} after its expected end "
                  f"{utc_stamp(bound)} (slack {_seconds(self.slack)}), {where}")  # fmt: skip

    def check_acks(self, order_id: str, order_acks: list[AckRecord], final: str | None) -> None:
        if final is None:
            return
        for ack in order_acks:
            told = ack.stage
            if told and Stage(told).is_terminal and told != final:
                self.flag(order_id, "lost_run", f"{ack.kind} acknowledged at {utc_stamp(ack.at)} "
                          f"reported stage {told}, but the run ended {final}")  # fmt: skip
            if (
                ack.kind == "notice"
                and ack.result == "accepted"
                and ack.detail.endswith("succeeded")
                and final == Stage.EXPIRED
            ):
                self.flag(order_id, "lost_notice", f"payment confirmation accepted at "
                          f"{utc_stamp(ack.at)}, yet the order expired waiting for payment")  # fmt: skip

    def check_effects(self, order_id: str, entries: list[LedgerEntry]) -> None:
        for key, count in Counter(e.key for e in entries).items():
            if count > 1:
                effect = next(e.effect for e in entries if e.key == key)
                self.flag(order_id, "duplicate_effect",
                          f"{effect} applied {count} times under one key {key}")  # fmt: skip
        logical: dict[tuple[str, str], list[str]] = defaultdict(list)
        for entry in entries:
            if entry.effect not in _ONCE_PER_ORDER:
                continue
            qualifier = _ONCE_PER_ORDER[entry.effect]
            which = str(entry.detail.get(qualifier, "")) if qualifier else ""
            logical[(entry.effect, which)].append(entry.key)
        for (effect, which), keys in logical.items():
            if len(set(keys)) > 1:
                label = effect + (f" ({which})" if which else "")
                self.flag(order_id, "duplicate_effect", f"{label} applied {len(keys)} times, "
                          f"keys {', '.join(sorted(set(keys)))}")  # fmt: skip

    def check_netting(
        self, order_id: str, final: str, last: RunFacts, entries: list[LedgerEntry]
    ) -> None:
        counts = Counter(e.effect for e in entries)
        problems: list[str] = []
        if final == Stage.ACTIVE:
            counts[Effect.REFUND_PAYMENT] -= sum(1 for e in entries if _surplus_refund(e))
            problems += [f"{e} applied" for e in _UNDO_EFFECTS if counts[e]]
            problems += [f"no {e}" for e in _KEPT_BY_ACTIVE if not counts[e]]
        else:
            for forward, undo, missing in _NETTING:
                if counts[forward] != counts[undo]:
                    problems.append(f"{missing} ({forward} {counts[forward]}, {undo} "
                                    f"{counts[undo]})")  # fmt: skip
            paid = last.payment_status == "succeeded"
            refunds = counts[Effect.REFUND_PAYMENT]
            if (refunds == 0) if paid else (refunds > 0):
                problems.append(
                    f"paid but not refunded ({refunds} refunds)"
                    if paid
                    else f"refunded {refunds} time(s) without a payment"
                )
        if counts[Effect.ESCALATE] != counts[Effect.CLOSE_TICKET]:
            problems.append(
                f"{counts[Effect.ESCALATE] - counts[Effect.CLOSE_TICKET]} ticket(s) left open"
            )
        if problems:
            self.flag(order_id, "effects_not_netted", f"ended {final}: " + "; ".join(problems))

    def report(self, orders: list[str], stages: Counter[str]) -> AuditReport:
        by_order: dict[str, set[str]] = defaultdict(set)
        for v in self.violations:
            by_order[v.order_id].add(v.kind)
        summary = AuditSummary(
            orders=len(orders),
            terminal=sum(n for s, n in stages.items() if s != "unknown" and Stage(s).is_terminal),
            lost=sum(1 for kinds in by_order.values() if kinds & LOSS_KINDS),
            duplicated=sum(1 for kinds in by_order.values() if kinds & DUPLICATION_KINDS),
            stages=dict(sorted(stages.items())),
        )
        return AuditReport(
            clean=not self.violations,
            summary=summary,
            violations=tuple(sorted(self.violations, key=lambda v: (v.order_id, v.kind))),
            notes=tuple(self.notes),
        )


def audit(facts: AuditFacts, slack: timedelta = DEFAULT_SLACK) -> AuditReport:
    """Every violation found in `facts`; `clean` when there is none."""
    return _Auditor(facts, slack).run()
