"""The ETA: "when can I use it?", from the policy windows of the stages still ahead.

Pure: the workflow calls it with `workflow.now()` whenever a stage starts or ends. For the stage in
progress, the time already spent is taken off its window.

`revise` is today's ETA: never in the past, and never silent about being late. Propagation uses
evidence when the run has it (the platform's apply latency read when propagation started, the
regions applied so far; before it starts, the latency of now widened by how far the load moved
lately within as long as the run still needs before it pushes, since the factor its pushes get
is not known until they are made); a stage past the latest end of its typical window says by how
long, the open ticket and what a person is looking at, and gives a revised interval from the
evidence, or `latest` None with the reason when nothing supports one. `estimate_eta` is the ETA
of runs started before that (`patches.ETA_FROM_EVIDENCE`): their `ActivationEta` search
attribute keeps its values, so their histories replay unchanged; it collapses onto "now" once a
stage overruns its window.
"""

from datetime import datetime, timedelta

from domain.apply_latency import ApplyLatency
from domain.eta_words import fmt, late_words
from domain.frozen import Frozen
from domain.policy import OrderPolicy, Window
from domain.stages import Stage
from domain.status import Escalation, Eta

_ZERO = timedelta(0)
_ALL_APPLIED = "every region applied"
_PLATFORM = "the platform's apply latency"
_CALL = "a call in flight, no failure yet"
# Stages that are calls, not waits (the policy's `step` window).
_CALLS = frozenset({Stage.RECONCILING, Stage.UPDATING_BILLING, Stage.ACTIVATING})


_fmt = fmt


def _window_text(label: str, window: Window) -> str:
    return f"{label} {_fmt(window.earliest)}-{_fmt(window.latest)}"


def remaining_plan(policy: OrderPolicy, payment_label: str) -> list[tuple[Stage, Window, str]]:
    """The forward stages of this order with their typical windows, in order."""
    plan: list[tuple[Stage, Window, str]] = [
        (Stage.AWAITING_PAYMENT, policy.payment_confirmation, f"{payment_label} confirmation"),
        (Stage.RECONCILING, policy.step, "reconciliation"),
        (Stage.UPDATING_BILLING, policy.step, "billing update"),
    ]
    if policy.allocation is not None:
        plan.append((Stage.ALLOCATING_RESOURCES, policy.allocation, "resource allocation"))
    plan.append((Stage.PROPAGATING, policy.propagation, "config propagation"))
    plan.append((Stage.ACTIVATING, policy.step, "activation"))
    notify = policy.step + policy.client_refresh if policy.client_refresh else policy.step
    label = "notification + client refresh" if policy.client_refresh else "notification"
    plan.append((Stage.NOTIFYING, notify, label))
    return plan


def until_propagation(policy: OrderPolicy, payment_label: str, stage: Stage) -> timedelta | None:
    """The longest typical time from the start of `stage` to the first push of propagation (the
    latest ends of the stages in between); None from propagation on, or outside the forward path.
    The horizon of the platform's load range for an ETA given before the run pushes."""
    plan = remaining_plan(policy, payment_label)
    stages = [s for s, _, _ in plan]
    if stage not in stages or stages.index(stage) >= stages.index(Stage.PROPAGATING):
        return None
    between = plan[stages.index(stage) : stages.index(Stage.PROPAGATING)]
    return sum((w.latest for _, w, _ in between), _ZERO)


def estimate_eta(
    policy: OrderPolicy,
    payment_label: str,
    stage: Stage,
    stage_started_at: datetime,
    now: datetime,
) -> Eta:
    """ETA for a run in a forward stage. Side and terminal stages are the caller's to describe."""
    plan = remaining_plan(policy, payment_label)
    stages = [s for s, _, _ in plan]
    if stage not in stages:
        raise ValueError(f"no ETA for stage {stage}")
    ahead = plan[stages.index(stage) :]
    _, current, current_label = ahead[0]
    elapsed = max(now - stage_started_at, _ZERO)
    earliest = now + max(current.earliest - elapsed, _ZERO)
    latest = now + max(current.latest - elapsed, _ZERO)
    parts = [_window_text(current_label, current)]
    if elapsed > current.latest:
        parts[0] += f" (running {_fmt(elapsed)}, past its typical window)"
    for _, window, label in ahead[1:]:
        earliest += window.earliest
        latest += window.latest
        parts.append(_window_text(label, window))
    return Eta(earliest=earliest, latest=latest, basis="; ".join(parts))


class EtaFacts(Frozen):
    """What the run knows beside the policy, for `revise`."""

    stage: Stage
    stage_started_at: datetime
    change_kinds: tuple[str, ...] = ()
    # The platform's apply latency: read when propagation started (else the last one read).
    latency: ApplyLatency | None = None
    regions_applied: int = 0
    regions_total: int = 0
    # The run's open ticket, if any, and the decision a `resolve` answers now.
    ticket: Escalation | None = None
    attention_id: str | None = None
    # When the activation SLA opens a ticket, if it has not yet.
    sla_at: datetime | None = None
    # Failed attempts in the current stage: a call stage with none is a call still in flight.
    attempts: int = 0
    # How long after a region applies the run may see it: its check interval when it sleeps on a
    # timer between checks, 0 when a check waits inside the call. The windows say when the
    # platform applies; the run (and so `active`) follows only at its next look.
    sight_lag: timedelta = _ZERO


def _seen(stage: Stage, window: Window, facts: EtaFacts) -> Window:
    """A stage's window as the run sees it: a propagation up to one check interval later."""
    if stage is not Stage.PROPAGATING:
        return window
    return Window(earliest=window.earliest, latest=window.latest + facts.sight_lag)


def _looking_at(facts: EtaFacts) -> str:
    ticket = facts.ticket
    if ticket is not None:
        opened = _on(ticket.opened_at)
        return f"a person is on ticket {ticket.ticket_id} ({ticket.reason}, opened {opened})"
    if facts.sla_at is not None:
        return f"nobody yet: a ticket opens at {_on(facts.sla_at)} if it is still not active"
    return "nobody yet: no ticket is open"


def _on(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _windows(
    policy_window: Window, facts: EtaFacts, now: datetime
) -> tuple[list[tuple[Window, str]], list[str]]:
    """The windows the current stage may end in, best evidence first, and the evidence words."""
    evidence: list[str] = []
    candidates: list[tuple[Window, str]] = []
    if facts.stage is Stage.PROPAGATING and facts.regions_total:
        evidence.append(f"{facts.regions_applied} of {facts.regions_total} regions applied")
        if facts.regions_applied >= facts.regions_total:
            return [(Window(earliest=_ZERO, latest=_ZERO), _ALL_APPLIED)], evidence
    if facts.stage is Stage.PROPAGATING and facts.latency is not None:
        measured = facts.latency.window(facts.change_kinds)
        if measured is not None:
            evidence.append(facts.latency.words())
            candidates.append((_seen(facts.stage, measured, facts), _PLATFORM))
    candidates.append((_seen(facts.stage, policy_window, facts), "its typical window"))
    if facts.stage in _CALLS and facts.attempts == 0:
        # A call with no failure yet is in flight: it answers within a window of its own from now.
        elapsed = max(now - facts.stage_started_at, _ZERO)
        candidates.append((Window(earliest=_ZERO, latest=elapsed + policy_window.latest), _CALL))
    return candidates, evidence


def revise(policy: OrderPolicy, payment_label: str, facts: EtaFacts, now: datetime) -> Eta:
    """The ETA of a run in a forward stage: `latest` is None or never before `now`."""
    plan = remaining_plan(policy, payment_label)
    stages = [s for s, _, _ in plan]
    if facts.stage not in stages:
        raise ValueError(f"no ETA for stage {facts.stage}")
    # A client refresh (media_quality) can happen at once, the moment the run is active: it
    # widens `latest` only (the policy's 5-15 min is how late an open app may notice).
    plan = [
        (
            s,
            Window(earliest=policy.step.earliest, latest=w.latest) if s is Stage.NOTIFYING else w,
            lbl,
        )
        for s, w, lbl in plan
    ]
    ahead = plan[stages.index(facts.stage) :]
    latency = facts.latency
    measured = latency.window(facts.change_kinds, ahead=True) if latency is not None else None
    if measured is not None:
        # A propagation still ahead: the platform's latency of now is the best evidence of it, over
        # how far the load may move before the run pushes (its pushes get the factor of their
        # moment).
        ahead = [
            (s, measured if s is Stage.PROPAGATING and i > 0 else w, lbl)
            for i, (s, w, lbl) in enumerate(ahead)
        ]
    _, policy_window, label = ahead[0]
    rest = [_seen(s, w, facts) for s, w, _ in ahead[1:]]
    rest_earliest = sum((w.earliest for w in rest), _ZERO)
    rest_latest = sum((w.latest for w in rest), _ZERO)
    elapsed = max(now - facts.stage_started_at, _ZERO)
    candidates, evidence = _windows(policy_window, facts, now)
    moved = latency.range_words() if measured is not None and latency is not None else None
    if moved is not None and facts.stage is not Stage.PROPAGATING:
        evidence.append(moved)
    # The first window the stage can still end in; none: nothing supports an estimate.
    usable = next(
        ((w, why) for w, why in candidates if elapsed <= w.latest or why == _ALL_APPLIED), None
    )
    window = usable[0] if usable is not None else candidates[0][0]
    if usable is not None and usable[1] == _CALL:
        evidence.append(_CALL)
    parts = [_window_text(label, window)]
    if usable is not None and usable[1] != "its typical window":
        parts[0] += f" ({usable[1]})"
    parts += [_window_text(lbl, w) for (_, _, lbl), w in zip(ahead[1:], rest, strict=True)]
    earliest = now + max(window.earliest - elapsed, _ZERO) + rest_earliest
    latest = now + max(window.latest - elapsed, _ZERO) + rest_latest if usable else None
    overdue = elapsed - policy_window.latest if elapsed > policy_window.latest else None
    no_estimate = None
    if latest is None:
        no_estimate = _why_not(label, elapsed, facts, candidates)
        parts[0] += f" (running {_fmt(elapsed)}, past its typical window)"
    eta = Eta(
        earliest=earliest,
        latest=latest,
        basis="; ".join(parts),
        evidence="; ".join(evidence) or None,
        no_estimate=no_estimate,
    )
    if overdue is None and latest is not None:
        return eta
    late = eta.model_copy(
        update={
            "overdue_s": overdue.total_seconds() if overdue is not None else None,
            "overdue_stage": facts.stage if overdue is not None else None,
            "ticket_id": facts.ticket.ticket_id if facts.ticket is not None else None,
            "attention_id": facts.attention_id,
            "looking_at": _looking_at(facts),
        }
    )
    return late.model_copy(update={"late": late_words(late, label, now)})


def _why_not(
    label: str, elapsed: timedelta, facts: EtaFacts, candidates: list[tuple[Window, str]]
) -> str:
    platform = [w.latest for w, why in candidates if why == _PLATFORM]
    if facts.stage is Stage.PROPAGATING:
        applied = f"{facts.regions_applied} of {facts.regions_total} regions applied"
        if not platform:
            return (
                f"{applied} after {_fmt(elapsed)}, past its typical window; the platform "
                "reported no apply latency to revise it by"
            )
        return (
            f"{applied} after {_fmt(elapsed)}; the platform's current apply latency (at most "
            f"{_fmt(platform[0])}) does not explain the delay, so nothing tells when the rest apply"
        )
    return f"{label} has run {_fmt(elapsed)}, past its typical window; nothing tells when it ends"
