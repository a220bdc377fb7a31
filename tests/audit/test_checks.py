"""The audit's pure checker fed each violating case, and clean cases that must stay clean.

Facts are built as the collector would report them for one order: an acknowledged start, its
run, and the ledger of a normal activation; each test breaks one thing.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent, WorkflowTaskFailedEventAttributes

from audit.checks import audit, expected_end
from audit.collect import task_failure
from audit.facts import AuditFacts, AuditReport, LedgerEntry, RunFacts
from audit.scope import scope_since
from client.ack_journal import AckRecord
from domain.policy import resolve_policy
from tests.support.factories import make_order

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
SCALE = 600.0
ORDER = "ORD-1"
WF = f"upgrade-{ORDER}"
POLICY = resolve_policy(make_order(order_id=ORDER), T0, SCALE)
REGIONS = ("cn-north", "cn-east", "us-east")


def ack(kind: str = "start", result: str = "created", **kw: Any) -> AckRecord:
    fields: dict[str, Any] = {"at": T0, "kind": kind, "order_id": ORDER, "workflow_id": WF,
                              "run_id": "run-1", "result": result} | kw  # fmt: skip
    return AckRecord(**fields)


def run(**kw: Any) -> RunFacts:
    fields: dict[str, Any] = {
        "order_id": ORDER, "workflow_id": WF, "run_id": "run-1", "chain_id": "run-1",
        "status": "completed", "started_at": T0, "chain_started_at": T0,
        "closed_at": T0 + timedelta(seconds=20), "stage": "active", "payment_status": "succeeded",
        "activation_deadline": T0 + timedelta(seconds=1) + POLICY.activation_sla,
        "policy": POLICY,
    } | kw  # fmt: skip
    return RunFacts(**fields)


_seq = iter(range(1, 10_000))


def effect(effect: str, step: str | None = None, **detail: Any) -> LedgerEntry:
    system, action = effect.split("/")
    return LedgerEntry(seq=next(_seq), system=system, action=action, order_id=ORDER,
                       key=f"{WF}:{step or action}", at=T0 + timedelta(seconds=5),
                       detail=detail)  # fmt: skip


def activated() -> list[LedgerEntry]:
    return [
        effect("orders/reconcile_order"),
        effect("billing/update_billing_plan"),
        effect("config/publish_config_version"),
        *(effect("config/push_config", f"push:{r}:1", region=r) for r in REGIONS),
        effect("entitlements/activate_entitlements"),
        effect("console/invalidate_console_cache"),
        effect("notifications/notify_customer", "notify:active", outcome="active"),
    ]


def cancelled_after_billing() -> list[LedgerEntry]:
    return [
        effect("orders/reconcile_order"),
        effect("billing/update_billing_plan"),
        effect("billing/revert_billing_plan"),
        effect("payments/refund_payment"),
        effect("notifications/notify_customer", "notify:cancelled", outcome="cancelled"),
    ]


def facts(
    *,
    acks: list[AckRecord] | None = None,
    runs: list[RunFacts] | None = None,
    ledger: list[LedgerEntry] | None = None,
    now: datetime = T0 + timedelta(minutes=5),
) -> AuditFacts:
    return AuditFacts(
        now=now,
        acks=tuple([ack()] if acks is None else acks),
        runs=tuple([run()] if runs is None else runs),
        ledger=tuple(activated() if ledger is None else ledger),
    )


def kinds(report: AuditReport) -> list[str]:
    return [v.kind for v in report.violations]


def test_a_normal_activation_is_clean() -> None:
    report = audit(facts())
    assert report.clean, report.violations
    assert report.summary.orders == 1 and report.summary.terminal == 1
    assert report.summary.lost == 0 and report.summary.duplicated == 0


def test_a_compensated_cancel_that_nets_to_zero_is_clean() -> None:
    cancelled = run(stage="cancelled")
    told = ack("cancel", "accepted", stage="cancelled")
    report = audit(facts(acks=[ack(), told], runs=[cancelled], ledger=cancelled_after_billing()))
    assert report.clean, report.violations


def test_continue_as_new_runs_of_one_chain_count_as_one() -> None:
    first = run(status="continued_as_new", stage="awaiting_payment")
    second = run(run_id="run-2", started_at=T0 + timedelta(seconds=3))
    assert audit(facts(runs=[first, second])).clean


def test_two_runs_for_one_order_are_a_duplicate() -> None:
    other = run(run_id="run-9", chain_id="run-9", started_at=T0 + timedelta(seconds=1))
    report = audit(facts(runs=[run(), other]))
    assert kinds(report) == ["duplicate_run"]
    assert report.violations[0].order_id == ORDER and "run-9" in report.violations[0].reason
    assert report.summary.duplicated == 1


def test_an_acknowledged_start_without_a_run_is_missing() -> None:
    report = audit(facts(runs=[], ledger=[]))
    assert kinds(report) == ["missing_run"]
    assert report.summary.lost == 1


def test_a_run_other_than_the_acknowledged_one_is_missing() -> None:
    report = audit(facts(acks=[ack(run_id="run-told")]))
    assert kinds(report) == ["missing_run"]
    assert "run-told" in report.violations[0].reason


def test_effects_without_any_run_are_reported() -> None:
    report = audit(facts(acks=[], runs=[]))
    assert kinds(report) == ["missing_run"]


def test_a_run_that_closed_without_a_terminal_stage_is_lost() -> None:
    report = audit(facts(runs=[run(status="terminated", stage="propagating")]))
    assert "lost_run" in kinds(report)


def test_a_running_run_past_its_expected_time_plus_slack_is_stuck() -> None:
    stuck = run(status="running", stage="updating_billing", closed_at=None, pending="x attempt 9")
    bound = expected_end(stuck)
    assert bound is not None
    within = audit(facts(runs=[stuck], ledger=[], now=bound + timedelta(seconds=30)))
    assert within.clean, within.violations
    late = audit(facts(runs=[stuck], ledger=[], now=bound + timedelta(minutes=5)))
    assert kinds(late) == ["stuck_run"]
    assert "updating_billing" in late.violations[0].reason
    assert "x attempt 9" in late.violations[0].reason


def test_an_unpaid_run_is_bounded_by_the_payment_expiry() -> None:
    waiting = run(status="running", stage="awaiting_payment", closed_at=None,
                  activation_deadline=None)  # fmt: skip
    bound = expected_end(waiting)
    assert bound is not None and bound > T0 + POLICY.payment_expiry
    early = audit(facts(runs=[waiting], ledger=[], now=T0 + POLICY.payment_expiry))
    assert early.clean
    assert kinds(audit(facts(runs=[waiting], ledger=[], now=bound + timedelta(hours=1)))) == [
        "stuck_run"
    ]


def test_a_run_waiting_for_an_operator_is_a_note_not_a_violation() -> None:
    waiting = run(status="running", stage="needs_attention", closed_at=None, escalated=True)
    report = audit(facts(runs=[waiting], ledger=[], now=T0 + timedelta(days=30)))
    assert report.clean
    assert report.notes and "waits for a person" in report.notes[0]


def test_billing_applied_under_two_keys_is_a_duplicate_effect() -> None:
    ledger = [*activated(), effect("billing/update_billing_plan", "update_billing_plan:again")]
    report = audit(facts(ledger=ledger))
    assert kinds(report) == ["duplicate_effect"]
    assert "billing/update_billing_plan applied 2 times" in report.violations[0].reason


def test_one_key_applied_twice_is_a_duplicate_effect() -> None:
    twice = effect("entitlements/activate_entitlements")
    report = audit(facts(ledger=[*activated(), twice]))
    assert "duplicate_effect" in kinds(report)
    assert any("under one key" in v.reason for v in report.violations)


def test_re_pushes_of_a_region_are_not_duplicates() -> None:
    repush = effect("config/push_config", "push:cn-north:2", region="cn-north")
    assert audit(facts(ledger=[*activated(), repush])).clean


def test_a_second_ticket_for_the_same_reason_is_a_duplicate() -> None:
    tickets = [
        effect(
            "tickets/escalate", "escalate:activation_sla", reason="activation_sla", ticket_id="T1"
        ),
        effect("tickets/escalate", "escalate:sla-again", reason="activation_sla", ticket_id="T2"),
        effect("tickets/close_ticket", "close:1", ticket_id="T1"),
        effect("tickets/close_ticket", "close:2", ticket_id="T2"),
    ]
    report = audit(facts(ledger=[*activated(), *tickets]))
    assert kinds(report) == ["duplicate_effect"]


def test_a_compensation_that_does_not_net_to_zero_is_reported() -> None:
    not_reverted = [
        e for e in cancelled_after_billing() if e.effect != "billing/revert_billing_plan"
    ]
    report = audit(facts(runs=[run(stage="cancelled")], ledger=not_reverted))
    assert kinds(report) == ["effects_not_netted"]
    assert "billing not reverted" in report.violations[0].reason


def test_a_paid_order_that_failed_without_a_refund_is_reported() -> None:
    no_refund = [e for e in cancelled_after_billing() if e.effect != "payments/refund_payment"]
    report = audit(facts(runs=[run(stage="failed")], ledger=no_refund))
    assert kinds(report) == ["effects_not_netted"]
    assert "not refunded" in report.violations[0].reason


def test_partial_refunds_of_one_order_are_not_duplicates() -> None:
    # An overpayment's surplus given back, then the rest when the order is unwound: two refunds
    # under two keys. Whether they exceed the capture is the money check's (test_money.py).
    refunds = [
        effect("payments/refund_payment", "refund_surplus", refund_id="rf-a", amount="100.00"),
        effect("payments/refund_payment", "refund_payment", refund_id="rf-b", amount="500.00"),
    ]
    ledger = [e for e in cancelled_after_billing() if e.effect != "payments/refund_payment"]
    assert audit(facts(runs=[run(stage="failed")], ledger=[*ledger, *refunds])).clean


def test_an_active_order_keeps_the_refund_of_an_approved_overpayments_surplus() -> None:
    # Found by the end-to-end money batch: `approve` of an overpayment refunds the surplus at
    # once, and the order then ends active; that partial refund is not an undo.
    surplus = effect("payments/refund_payment", "refund_surplus", refund_id="rf-s", amount="1.00")
    assert audit(facts(ledger=[*activated(), surplus])).clean
    # Any other refund of an active order still is.
    undo = effect("payments/refund_payment", refund_id="rf-u", amount="600.00")
    report = audit(facts(ledger=[*activated(), surplus, undo]))
    assert kinds(report) == ["effects_not_netted"]
    assert "refund_payment applied" in report.violations[0].reason


def test_an_unpaid_order_needs_no_refund() -> None:
    expired = run(stage="expired", payment_status="pending", activation_deadline=None)
    assert audit(facts(runs=[expired], ledger=[])).clean


def test_an_active_order_whose_grant_was_undone_is_reported() -> None:
    report = audit(facts(ledger=[*activated(), effect("entitlements/deactivate_entitlements")]))
    assert kinds(report) == ["effects_not_netted"]


def test_a_ticket_left_open_is_reported() -> None:
    opened = effect("tickets/escalate", "escalate:x", reason="activation_sla", ticket_id="T1")
    report = audit(facts(ledger=[*activated(), opened]))
    assert kinds(report) == ["effects_not_netted"]
    assert "left open" in report.violations[0].reason


def test_a_workflow_task_failure_in_any_history_is_reported() -> None:
    failed = run(task_failures=("NON_DETERMINISTIC_ERROR: nondeterminism (event 7)",))
    report = audit(facts(runs=[failed]))
    assert kinds(report) == ["task_failure"]
    assert "NON_DETERMINISTIC_ERROR" in report.violations[0].reason


def test_an_accepted_payment_notice_on_an_expired_order_is_lost() -> None:
    notice = ack("notice", "accepted", stage="awaiting_payment", detail="payment succeeded")
    expired = run(stage="expired", payment_status="pending", activation_deadline=None)
    report = audit(facts(acks=[ack(), notice], runs=[expired], ledger=[]))
    assert kinds(report) == ["lost_notice"]


def test_a_client_told_cancelled_while_the_run_ended_active_is_reported() -> None:
    told = ack("cancel", "accepted", stage="cancelled")
    report = audit(facts(acks=[ack(), told]))
    assert kinds(report) == ["lost_run"]


def test_scope_since_keeps_whole_orders_seen_since() -> None:
    old_ack = ack(order_id="OLD", workflow_id="upgrade-OLD", at=T0 - timedelta(days=1))
    old_run = run(order_id="OLD", workflow_id="upgrade-OLD", run_id="r-old", chain_id="r-old",
                  chain_started_at=T0 - timedelta(days=1), started_at=T0 - timedelta(days=1))  # fmt: skip
    everything = facts(acks=[ack(), old_ack], runs=[run(), old_run])
    scoped = scope_since(everything, T0 - timedelta(hours=1))
    assert {a.order_id for a in scoped.acks} == {ORDER}
    assert {r.order_id for r in scoped.runs} == {ORDER}
    assert len(scoped.ledger) == len(everything.ledger)


def test_a_task_refused_for_an_event_that_arrived_meanwhile_is_not_a_failure() -> None:
    # UNHANDLED_COMMAND: the task tried to complete while a signal arrived; the worker runs it
    # again with the signal (seen in a same-account batch: a lease grant racing a completion).
    def failed(cause: WorkflowTaskFailedCause.ValueType) -> HistoryEvent:
        return HistoryEvent(
            event_id=79,
            event_type=EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
            workflow_task_failed_event_attributes=WorkflowTaskFailedEventAttributes(
                cause=cause, failure=Failure(message="UnhandledCommand")
            ),
        )

    assert (
        task_failure(failed(WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND))
        == []
    )
    [text] = task_failure(
        failed(WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR)
    )
    assert text.startswith("NON_DETERMINISTIC_ERROR: ") and text.endswith("(event 79)")
