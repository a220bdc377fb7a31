"""What operators read about a run: the current-details markdown and an escalation's likely cause.

Pure functions of the status model, so they are tested without a server and cost nothing on replay.
"""

from datetime import date
from types import MappingProxyType

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from channels.reference import payment_reference
    from domain import progress
    from domain.moments import date_clock, on_day
    from domain.stages import Stage
    from domain.status import EscalationReason, RegionProgress, UpgradeStatus

_CAUSES = MappingProxyType(
    {
        EscalationReason.PAYMENT_OVERDUE: (
            "the payment channel has not confirmed the payment by its deadline: for a bank or "
            "corporate transfer, check the transfer memo and the bank's reconciliation cycle"
        ),
        EscalationReason.RECONCILIATION_MISMATCH: (
            "order and account data do not match, so automatic reconciliation failed: compare the "
            "paid amount, the account's current plan and the app's owner with the order"
        ),
        EscalationReason.CAPACITY_REFUSED: (
            "the resource scheduler has no capacity for this capability in some region: arrange "
            "capacity, then `retry`, or `approve` if it was allocated by hand, or `reject` to refund"
        ),
        EscalationReason.UNAPPLIED_PAYMENT: (
            "the channel captured a payment this run cannot apply (it reported `succeeded` after "
            "`failed`, or the payment was found while the unpaid order was ending): the run refunds "
            "it; check the refund in the compensations and the channel's ledger, tell the customer"
        ),
        EscalationReason.COMPENSATION_STUCK: (
            "a compensation or the refund was refused for good by the platform, or is still failing "
            "after the bound: see the compensations (`refused` / `stuck`) in status, undo that step "
            "by hand (docs/operations.md, compensation_stuck); the other undos and the refund went on"
        ),
    }
)
_SLA_CAUSES = MappingProxyType(
    {
        Stage.PROPAGATING: (
            "config sync is slow (peak time): some regions have not applied the new config; they "
            "were re-pushed. `retry` re-pushes now, `reject` rolls back and refunds"
        ),
        Stage.ALLOCATING_RESOURCES: "compute allocation is slow to become ready in some regions",
        Stage.NEEDS_ATTENTION: "the run waits for an operator decision (see its earlier ticket)",
        Stage.COMPENSATING: "compensation is retrying against a failing platform system",
    }
)


def likely_cause(reason: EscalationReason, stage: Stage, last_error: str | None) -> str:
    if reason is EscalationReason.COMPENSATION_STUCK and last_error:
        return f"{_CAUSES[reason]}; last error: {last_error}"
    if reason is not EscalationReason.ACTIVATION_SLA:
        return _CAUSES[reason]
    cause = _SLA_CAUSES.get(stage, f"the run is still in `{stage}` past the activation SLA")
    if last_error:
        cause += f"; last error: {last_error}"
    return cause


_MARK = MappingProxyType(
    {
        progress.DONE: "✓",
        progress.RUNNING: "▶",
        progress.WAITING: "◇",
        progress.INTERRUPTED: "✗",
        progress.RESOLVED: "✓",
        progress.REACHED: "■",
    }
)


def _stage_lines(status: UpgradeStatus, day: date) -> list[str]:
    lines = []
    for index, record in enumerate(status.stages):
        state = progress.record_state(status, index)
        line = f"{_MARK[state]} `{record.stage}` {on_day(record.started_at, day)}"
        if state == progress.REACHED:
            pass
        elif record.ended_at is not None:
            took = progress.span(record.ended_at - record.started_at)
            line += f" → {on_day(record.ended_at, day)} ({took})"
        elif state in (progress.RUNNING, progress.WAITING):
            line += f" → now ({state})"
        else:
            line += f" → left ({state})"
        if record.attempts:
            line += f" · {record.attempts} failed attempt{'s' if record.attempts > 1 else ''}"
        if record.last_error:
            line += f": {record.last_error}"
        lines.append(line)
    ahead = progress.pending_stages(status)
    if ahead:
        lines.append("· ahead: " + " → ".join(f"`{stage}`" for stage in ahead))
    return lines


def _region_lines(status: UpgradeStatus, day: date) -> list[str]:
    # The rollback compensation restores every region's previous config; the region records keep
    # the state they had reached before it, so the rollback is said first.
    rolled_back = progress.rolled_back_at(status)
    by_state: dict[str, list[RegionProgress]] = {}
    for region in status.regions:
        by_state.setdefault(region.state, []).append(region)
    lines = [f"**Regions:** {progress.regions_applied(status)}/{len(status.regions)} applied"]
    if rolled_back is not None:
        lines[0] += f", then all rolled back at {on_day(rolled_back, day)}"
    labels = {
        "pushed": "pushed, not applied" + ("" if status.stage.is_terminal else " yet"),
        "pending": "not pushed yet",
        "applied": "applied",
        "rolled_back": "rolled back",
    }
    for state, label in labels.items():
        regions = by_state.get(state)
        if not regions:
            continue
        names = ", ".join(r.region + (f" ×{r.pushes}" if r.pushes > 1 else "") for r in regions)
        lines.append(f"- {label} ({len(regions)}): {names}")
    return lines


def details_markdown(status: UpgradeStatus) -> str:
    """The 'current details' shown in the Web UI: where the run is, why, and when it will be done.

    Short lines rather than wide tables: the UI gives this half a page and wraps table cells.
    """
    day = status.started_at.date()
    head = f"**Stage:** `{status.stage}`"
    if status.reason:
        head += f" — {status.reason}"
    if status.regions and not status.stage.is_terminal:
        head += f" · regions {progress.regions_applied(status)}/{len(status.regions)} applied"
    lines = [head]
    eta = status.eta
    if eta.earliest is not None and eta.latest is not None:
        if eta.earliest == eta.latest:
            lines.append(f"**ETA:** {on_day(eta.latest, day)} UTC ({eta.basis})")
        else:
            window = f"{on_day(eta.earliest, day)} – {on_day(eta.latest, day)} UTC"
            lines += [f"**ETA:** {window}", f"_based on: {eta.basis}_"]
    elif eta.earliest is not None:
        lines.append(f"**ETA:** not before {on_day(eta.earliest, day)} UTC — {eta.basis}")
    else:
        lines.append(f"**ETA:** none — {eta.basis}")
    if eta.late:
        # `Late: ...` as every door shows it, its first word in bold.
        head, _, rest = eta.late.partition(":")
        lines.append(f"**{head}:**{rest}")
    if status.waiting_for:
        lines.append(f"**Waiting:** {status.waiting_for}")
    if status.attention:
        attention = status.attention
        lines.append(
            f"**Needs attention:** `{attention.reason}` since {on_day(attention.since, day)}: "
            f"{attention.detail}"
        )
        bound = f" --attention-id {attention.id}" if attention.id else ""
        lines.append(
            f"**Answer:** `starter.py resolve {status.order_id} --action "
            f"{'|'.join(attention.allowed)}{bound}`"
        )
    for e in status.escalations:
        where = f"opened {on_day(e.opened_at, day)} in `{e.stage}`"
        state = f"closed {on_day(e.closed_at, day)}" if e.closed_at else "**open**"
        lines.append(
            f"**Escalation:** `{e.reason}` ({e.severity}), ticket {e.ticket_id}, {where}, {state}"
        )
    if status.cancel_requested and not status.stage.is_terminal:
        lines.append(f"**Cancel requested:** {status.cancel_requested}")
    payment = status.payment
    if payment.confirmed_at is None and not status.stage.is_terminal:
        due = f", deadline {on_day(payment.deadline, day)}" if payment.deadline else ""
        line = f"**Payment:** {payment.status}, polled {payment.polls}×{due}"
        if status.payment_method == "corporate_transfer":
            # What the payer writes in the transfer memo, and the statement import matches.
            line += f"; reference code `{payment_reference(status.order_id)}` (transfer memo)"
        lines.append(line)
    lines += ["", f"**Stages** (UTC, run started {date_clock(status.started_at)})"]
    lines += _stage_lines(status, day)
    if status.regions:
        lines += ["", *_region_lines(status, day)]
    if status.compensations:
        lines += ["", "**Compensations** (newest step first)"]
        lines += [
            f"- `{c.step}`: {c.outcome} at {on_day(c.at, day)}"
            + (f" ({c.detail})" if c.detail else "")
            for c in status.compensations
        ]
    return "\n".join(lines)
