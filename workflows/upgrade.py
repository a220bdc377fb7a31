"""The `upgrade-activation` saga: one run per paid order, from payment received to active everywhere.

Stages, in the order of `FORWARD`: awaiting_payment → reconciling → updating_billing →
[allocating_resources] → propagating → activating → notifying → active, one module each under
`workflows/stages/`. A business refusal that a person must decide parks the run in
`needs_attention` (`decisions`); a payment failure, an operator `reject` or a `cancel` unwinds the
compensations registered so far, in reverse order, and refunds (`compensation`).

This class is the Temporal surface only: the run, the `status` query, the three updates and their
validators' wiring. Orchestration only: every side effect is an activity (`calls`); time is
`workflow.now()` and durable timers.
"""

import asyncio
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.lease import GRANTED_SIGNAL, QUEUED_SIGNAL, LeaseGrant, LeaseQueued
    from domain.models import CancelRequest, MessageAck, PaymentNotice, Resolution
    from domain.stages import Stage
    from domain.status import UpgradeStatus
    from domain.upgrade_input import UpgradeInput

from workflows import decisions, lease, messages, metrics, patches, visibility
from workflows.alarms import CLOCK_FREE_DECISIONS
from workflows.compensation import unwind
from workflows.ending import finish, record_activated
from workflows.exits import SagaEnd
from workflows.messages import INVALID_MESSAGE
from workflows.stages import (
    activating,
    allocating_resources,
    awaiting_payment,
    notifying,
    propagating,
    reconciling,
    updating_billing,
)
from workflows.state import RunState

WORKFLOW_NAME = "upgrade-activation"

__all__ = ["FORWARD", "INVALID_MESSAGE", "WORKFLOW_NAME", "UpgradeActivation"]


if TYPE_CHECKING:  # for mypy only: a Protocol class costs memory in every sandboxed run
    from typing import Protocol

    class StageModule(Protocol):
        STAGE: Stage

        async def run(self, state: RunState) -> None: ...


# The forward path, in order: one module per stage, each named after its `Stage` value.
FORWARD: "tuple[StageModule, ...]" = (
    awaiting_payment,
    reconciling,
    updating_billing,
    allocating_resources,
    propagating,
    activating,
    notifying,
)


@workflow.defn(name=WORKFLOW_NAME)
class UpgradeActivation:
    @workflow.init
    def __init__(self, input: UpgradeInput) -> None:
        self._state = RunState(input)

    @workflow.run
    async def run(self, input: UpgradeInput) -> UpgradeStatus:
        state = self._state
        # Read once per run: a run started by earlier code keeps the decisions it was made with.
        state.clock_free = workflow.patched(CLOCK_FREE_DECISIONS)
        state.safety = patches.read()
        state.leased = workflow.patched(lease.ACCOUNT_LEASE)
        if not state.stages:  # the first run, not a continuation
            visibility.enter(state, Stage.AWAITING_PAYMENT)
            metrics.record_started(state.order.payment_method)
        visibility.publish(state)
        try:
            for stage in FORWARD:
                await stage.run(state)
            await finish(state, Stage.ACTIVE, "activated in every region")
            record_activated(state)
        except SagaEnd as ended:
            await unwind(state, ended)
        except asyncio.CancelledError:
            # The run itself was cancelled (e.g. `temporal workflow cancel`): compensations still
            # run, shielded from further cancellation, then the run ends cancelled.
            end = SagaEnd(Stage.CANCELLED, "workflow cancelled through Temporal", refund=True)
            await asyncio.shield(asyncio.ensure_future(unwind(state, end)))
            raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        return visibility.status(state)

    @workflow.query(name="status")
    def status(self) -> UpgradeStatus:
        return visibility.status(self._state)

    @workflow.signal(name=GRANTED_SIGNAL)
    def lease_granted(self, grant: LeaseGrant) -> None:
        lease.granted(self._state, grant)

    @workflow.signal(name=QUEUED_SIGNAL)
    def lease_queued(self, place: LeaseQueued) -> None:
        lease.queued(self._state, place)

    @workflow.update(name="confirm_payment")
    def confirm_payment(self, notice: PaymentNotice) -> MessageAck:
        return awaiting_payment.accept_notice(self._state, notice)

    @confirm_payment.validator
    def _validate_notice(self, notice: PaymentNotice) -> None:
        messages.validate_notice(self._state, notice)

    @workflow.update(name="resolve")
    async def resolve(self, resolution: Resolution) -> MessageAck:
        return await decisions.receive(self._state, resolution)

    @resolve.validator
    def _validate_resolution(self, resolution: Resolution) -> None:
        messages.validate_resolution(self._state, resolution)

    @workflow.update(name="cancel")
    async def cancel(self, request: CancelRequest) -> MessageAck:
        state = self._state
        if state.cancel is not None:
            await workflow.wait_condition(lambda: state.stage.is_terminal)
            return MessageAck(result="duplicate", stage=state.stage, detail="already cancelled")
        # Cooperative: every wait of the forward path watches this flag and ends the saga as soon
        # as the call in flight (a short HTTP request) has returned.
        # Not asyncio task cancellation: the SDK lets an activity result that lands in the same
        # activation win over a task cancel, and the cancel would be lost.
        state.cancel = request
        await workflow.wait_condition(lambda: state.stage.is_terminal)
        return MessageAck(result="accepted", stage=state.stage, detail=state.reason or "")

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        messages.validate_cancel(self._state, request)
