"""Validation of the run's messages (the `confirm_payment`, `resolve` and `cancel` updates).

A validator that raises rejects the update before anything is recorded in history: the caller
sees `InvalidMessage` naming the field at fault, and the run does not change.
"""

from typing import NoReturn

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.models import (
        CancelRequest,
        PaymentNotice,
        PaymentStatus,
        Resolution,
        ResolutionAction,
    )
    from domain.stages import CANCELLABLE_STAGES, Stage

from workflows.state import RunState

INVALID_MESSAGE = "InvalidMessage"


def validate_notice(state: RunState, notice: PaymentNotice) -> None:
    if state.stage.is_terminal or (
        state.stage is Stage.COMPENSATING and not state.payment_settled()
    ):
        _reject("order_id", f"the upgrade has ended ({state.stage}): {state.reason}")
    ending = state.ending
    if ending is not None and state.payment.status != PaymentStatus.SUCCEEDED:
        # An unpaid (or failed) run that is ending applies no payment any more: refused, so that
        # the ingress hands the notice to the custody path instead of it being kept here.
        _reject("order_id", f"the upgrade has ended ({ending.stage}): {ending.reason}")
    mismatch = notice.mismatch_with(state.order)
    if mismatch is not None:
        _reject(mismatch.field, mismatch.message)


def validate_resolution(state: RunState, resolution: Resolution) -> None:
    named = resolution.attention_id
    if named is not None:
        _check_bound(state, resolution, named)
        if named in state.decided or (
            state.resolution is not None and state.resolution.attention_id == named
        ):
            return  # a repeat of the decision taken (or being taken): answered `duplicate`
    if state.resolution is not None or state.cancel is not None:
        _reject("action", "another decision is being applied; try again")
    if state.stage is Stage.NEEDS_ATTENTION and state.attention is not None:
        if resolution.action not in state.attention.allowed:
            _reject(
                "action",
                f"{resolution.action} is not possible here "
                f"(allowed: {', '.join(state.attention.allowed)})",
            )
        return
    if state.stage in (Stage.PROPAGATING, Stage.ALLOCATING_RESOURCES) and state.sla_fired:
        if resolution.action is ResolutionAction.APPROVE:
            _reject("action", f"nothing to approve while {state.stage}: use retry or reject")
        return
    _reject(
        "action",
        f"the upgrade is in stage {state.stage}: decisions are taken only in needs_attention "
        "(or while escalated past the activation SLA)",
    )


def _check_bound(state: RunState, resolution: Resolution, named: str) -> None:
    """A decision names the problem it answers: refuse one for another problem, a stale one, or
    a different decision for a problem already decided."""
    taken = state.decided.get(named)
    if taken is None and state.resolution is not None and state.resolution.attention_id == named:
        taken = state.resolution
    if taken is not None:
        if taken.action is not resolution.action:
            _reject(
                "attention_id",
                f"{named} was already decided ({taken.action}): a different decision for it is "
                "refused",
            )
        return
    current = state.attention_id()
    if named != current:
        waiting = f"the one waiting now is {current}" if current else "none is waiting now"
        _reject("attention_id", f"{named} is not the problem waiting for a decision ({waiting})")


def validate_cancel(state: RunState, request: CancelRequest) -> None:
    if state.cancel is None and state.stage not in CANCELLABLE_STAGES:
        _reject("stage", f"cannot cancel in stage {state.stage}: only before activating")


def _reject(field: str, message: str) -> NoReturn:
    """Reject an update in its validator: nothing is recorded in history, the caller sees why."""
    raise ApplicationError(f"{field}: {message}", field, type=INVALID_MESSAGE, non_retryable=True)
