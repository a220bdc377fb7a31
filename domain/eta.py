"""The ETA: "when can I use it?", from the policy windows of the stages still ahead.

Pure: the workflow calls it with `workflow.now()` whenever a stage starts or ends. For the stage in
progress, the time already spent is taken off its window; a stage past the latest end of its
window adds nothing more to `latest` (we cannot know how late it will be) and says so in `basis`.
"""

from datetime import datetime, timedelta

from domain.policy import OrderPolicy, Window
from domain.stages import Stage
from domain.status import Eta

_ZERO = timedelta(0)


def _fmt(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 86_400:
        return f"{seconds / 86_400:.3g} d"
    if seconds >= 3_600:
        return f"{seconds / 3_600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{delta.total_seconds():.3g} s"


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
