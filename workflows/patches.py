"""The deploy markers of the saga-safety changes (issue 12) and of the ETA's evidence (issue 14):
one `workflow.patched` id per change of command order, read ONCE when a run starts (`read`) and
kept in `RunState.safety`, so that a run started by earlier code keeps the commands its history
was made with, and a new run takes the new path from its first task to its last (the same
discipline as `alarms.CLOCK_FREE_DECISIONS`).

Ids only, and the one function that reads them; what each path does lives where it is used.
"""

from dataclasses import dataclass

from temporalio import workflow

# A cancel while `publish_config_version` is in flight or backing off: the rollback replays the
# publish as a must-complete call (no cancel check) instead of a forward step (`propagating`).
CANCEL_UNWINDS_PUBLISH = "cancel-unwinds-publish"
# Every undo and the refund run guarded: one refused for good is recorded and escalates
# `compensation_stuck`; one still failing after a bound escalates and retries on in the background
# while the rest of the unwinding goes on (`compensation`).
COMPENSATION_NEVER_WEDGES = "compensation-never-wedges"
# A payment poll answered after a `cancel` arrived: its result is recorded before the saga ends,
# so a `succeeded` payment is refunded by the unwinding (`calls.interruptible`, `awaiting_payment`).
CANCEL_KEEPS_POLLED_PAYMENT = "cancel-keeps-polled-payment"
# A `succeeded` notice after a `failed` one on the same transaction is money captured: recorded,
# and refunded by the unwinding with an `unapplied_payment` ticket (`awaiting_payment`,
# `compensation`); every captured payment is refunded when the run does not activate.
SUCCEEDED_AFTER_FAILED_REFUNDED = "succeeded-after-failed-refunded"
# Before a run ends unpaid (expiry, or a cancel before the payment), it reads the channel once
# more (must-complete); a payment found is recorded and refunded (`compensation`).
UNPAID_READS_CHANNEL_ONCE_MORE = "unpaid-reads-channel-once-more"
# `approve` of a reconciliation refusal overrides that check only: `reconcile_order` still runs
# (other checks, the transaction claimed), and an approved overpayment refunds the surplus.
APPROVE_STILL_RECONCILES = "approve-still-reconciles"
# The ETA from evidence (issue 14): the platform's apply latency is read (`read_apply_latency`,
# best effort) when the payment is confirmed, when propagation starts and at each propagation
# check, and the `ActivationEta` search attribute follows the revised ETA (`workflows.evidence`).
ETA_FROM_EVIDENCE = "eta-from-evidence"
# The ETA's latest end of propagation includes the run's own check interval (`visibility`): it
# changes the `ActivationEta` values a run upserts, so runs started before keep theirs.
ETA_SIGHT_LAG = "eta-sight-lag"
# Not a patch: the ETA before propagation spans the platform's recent load range
# (`ApplyLatency.load_factor_low`/`_high`, 2026-12-03). A reading recorded before has no range
# and gives the ETA it gave, so a replay upserts the same values; only readings made after the
# deploy carry it.


@dataclass(frozen=True)
class Safety:
    """Which of the saga-safety paths this run takes (False: a run started by earlier code)."""

    cancel_unwinds_publish: bool = False
    compensation_never_wedges: bool = False
    cancel_keeps_polled_payment: bool = False
    succeeded_after_failed_refunded: bool = False
    unpaid_reads_channel_once_more: bool = False
    approve_still_reconciles: bool = False
    eta_from_evidence: bool = False
    eta_sight_lag: bool = False


def read() -> Safety:
    """Read every marker once, at the start of a run (each call of `patched` may add a marker)."""
    return Safety(
        cancel_unwinds_publish=workflow.patched(CANCEL_UNWINDS_PUBLISH),
        compensation_never_wedges=workflow.patched(COMPENSATION_NEVER_WEDGES),
        cancel_keeps_polled_payment=workflow.patched(CANCEL_KEEPS_POLLED_PAYMENT),
        succeeded_after_failed_refunded=workflow.patched(SUCCEEDED_AFTER_FAILED_REFUNDED),
        unpaid_reads_channel_once_more=workflow.patched(UNPAID_READS_CHANNEL_ONCE_MORE),
        approve_still_reconciles=workflow.patched(APPROVE_STILL_RECONCILES),
        eta_from_evidence=workflow.patched(ETA_FROM_EVIDENCE),
        eta_sight_lag=workflow.patched(ETA_SIGHT_LAG),
    )
