"""The `upgrade-activation` saga: one run per paid order, from payment received to active everywhere.

Stages (DESIGN.md section 2): awaiting_payment → reconciling → updating_billing →
[allocating_resources] → propagating → activating → notifying → active. A business refusal that a
person must decide parks the run in `needs_attention`; a payment failure, an operator `reject` or a
`cancel` unwinds the compensations registered so far, in reverse order, and refunds.

Orchestration only: every side effect is an activity; time is `workflow.now()` and durable timers.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar, overload

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import steps
    from domain.errors import NEEDS_ATTENTION_ERRORS, ErrorType
    from domain.eta import estimate_eta
    from domain.models import (
        CancelRequest,
        MessageAck,
        PaymentNotice,
        PaymentStatus,
        Resolution,
        ResolutionAction,
    )
    from domain.stages import CANCELLABLE_STAGES, Stage
    from domain.status import (
        SEVERITY,
        Attention,
        CompensationRecord,
        Escalation,
        EscalationReason,
        Eta,
        PaymentProgress,
        RegionProgress,
        StageRecord,
        UpgradeStatus,
    )
    from domain.upgrade_input import PaymentCarry, UpgradeInput

from workflows import metrics
from workflows import search_attributes as sa
from workflows.policies import (
    BEST_EFFORT_RETRY,
    CALL_TIMEOUT,
    FORWARD_RETRY,
    MUST_COMPLETE_RETRY,
    POLL_RETRY,
    SHORT_WAIT,
    scaled_backoff,
    scaled_retry,
)
from workflows.progress import details_markdown, likely_cause

T = TypeVar("T")

WORKFLOW_NAME = "upgrade-activation"
INVALID_MESSAGE = "InvalidMessage"


class SagaEnd(Exception):
    """Ends the forward path early: the run finishes in `stage` after unwinding."""

    def __init__(self, stage: Stage, reason: str, *, refund: bool) -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason
        self.refund = refund


class Refusal(Exception):
    """A business refusal (non-retryable error type) that a person must decide on."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def _refusal_of(err: ActivityError) -> Refusal | None:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.non_retryable and cause.type:
        return Refusal(cause.type, cause.message)
    return None


def _ignore_outcome(call: "asyncio.Future[Any]") -> None:
    """Retrieve the outcome of a read that nobody waits for any more (no 'never retrieved')."""
    if not call.cancelled():
        call.exception()


def _inline(wait: timedelta) -> timedelta:
    """The part of a wait to spend inside the checking activity: all of it when it is too short
    for a durable timer (`SHORT_WAIT`), else none (the workflow sleeps on a timer)."""
    return wait if timedelta(0) < wait < SHORT_WAIT else timedelta(0)


def _reject_message(field: str, message: str) -> NoReturn:
    """Reject an update in its validator: nothing is recorded in history, the caller sees why."""
    raise ApplicationError(f"{field}: {message}", field, type=INVALID_MESSAGE, non_retryable=True)


@workflow.defn(name=WORKFLOW_NAME)
class UpgradeActivation:
    @workflow.init
    def __init__(self, input: UpgradeInput) -> None:
        self._input = input
        self._order = input.order
        self._policy = input.policy
        self._wf_id = workflow.info().workflow_id
        carry = input.carry
        now = workflow.now()
        self._started_at = carry.started_at if carry else now
        self._stage = Stage.AWAITING_PAYMENT
        self._reason: str | None = None
        self._finished_at: datetime | None = None
        self._stages: list[StageRecord] = list(carry.stages) if carry else []
        self._payment = carry.payment if carry else PaymentProgress()
        self._escalations: list[Escalation] = list(carry.escalations) if carry else []
        self._seen_notices: set[str] = set(carry.seen_notices) if carry else set()
        self._under_review = carry.under_review if carry else False
        self._continuations = carry.continuations if carry else 0
        self._regions: dict[str, RegionProgress] = {}
        self._compensations: list[CompensationRecord] = []
        self._undo: list[tuple[str, Callable[[], Awaitable[steps.CompensationResult]]]] = []
        self._attention: Attention | None = None
        self._resolution: Resolution | None = None
        self._cancel: CancelRequest | None = None
        self._paid_amount = input.order.amount
        self._paid_currency = input.order.currency
        self._activation_deadline: datetime | None = None
        self._escalating: set[EscalationReason] = set()
        self._sla_task: asyncio.Task[None] | None = None
        self._sla_fired = False
        self._published: dict[str, Any] = {}
        self._config_version: steps.PublishConfigResult | None = None
        self._media_profile_id: str | None = None
        scale = input.policy.time_scale
        self._forward_retry = scaled_retry(FORWARD_RETRY, scale)
        self._poll_retry = scaled_retry(POLL_RETRY, scale)
        self._must_retry = scaled_retry(MUST_COMPLETE_RETRY, scale)
        self._best_effort_retry = scaled_retry(BEST_EFFORT_RETRY, scale)
        self._backoff = scaled_backoff(scale)

    # ------------------------------------------------------------------ run
    @workflow.run
    async def run(self, input: UpgradeInput) -> UpgradeStatus:
        if not self._stages:  # the first run, not a continuation
            self._enter(Stage.AWAITING_PAYMENT)
            metrics.record_started(self._order.payment_method)
        self._publish()
        try:
            await self._forward()
            await self._finish(Stage.ACTIVE, "activated in every region")
            self._record_activated()
        except SagaEnd as ended:
            await self._unwind(ended)
        except asyncio.CancelledError:
            # The run itself was cancelled (e.g. `temporal workflow cancel`): compensations still
            # run, shielded from further cancellation, then the run ends cancelled.
            end = SagaEnd(Stage.CANCELLED, "workflow cancelled through Temporal", refund=True)
            await asyncio.shield(asyncio.ensure_future(self._unwind(end)))
            raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status()

    async def _forward(self) -> None:
        await self._await_payment()
        self._sla_task = asyncio.create_task(self._watch_activation_sla())
        await self._reconcile()
        await self._update_billing()
        if self._policy.allocation is not None:
            await self._allocate_resources()
        await self._propagate()
        await self._activate()
        await self._notify_active()

    # ------------------------------------------------------------------ messages
    @workflow.query(name="status")
    def status(self) -> UpgradeStatus:
        return self._status()

    @workflow.update(name="confirm_payment")
    def confirm_payment(self, notice: PaymentNotice) -> MessageAck:
        key = f"{notice.transaction_id}:{notice.status}"
        if self._payment_settled() or key in self._seen_notices:
            return MessageAck(result="duplicate", stage=self._stage, detail="already recorded")
        self._seen_notices.add(key)
        self._payment = self._payment.model_copy(update={"notices": self._payment.notices + 1})
        self._record_payment(notice.status, notice.amount, notice.currency, via="notification")
        return MessageAck(result="accepted", stage=self._stage, detail=f"payment {notice.status}")

    @confirm_payment.validator
    def _validate_notice(self, notice: PaymentNotice) -> None:
        if self._stage.is_terminal or (
            self._stage is Stage.COMPENSATING and not self._payment_settled()
        ):
            _reject_message("order_id", f"the upgrade has ended ({self._stage}): {self._reason}")
        mismatch = notice.mismatch_with(self._order)
        if mismatch is not None:
            _reject_message(mismatch.field, mismatch.message)

    @workflow.update(name="resolve")
    async def resolve(self, resolution: Resolution) -> MessageAck:
        self._resolution = resolution
        # Consumed by the saga at once; a run that ends meanwhile (cancel) drops it.
        await workflow.wait_condition(lambda: self._resolution is None or self._stage.is_terminal)
        return MessageAck(result="accepted", stage=self._stage, detail=str(resolution.action))

    @resolve.validator
    def _validate_resolution(self, resolution: Resolution) -> None:
        if self._resolution is not None or self._cancel is not None:
            _reject_message("action", "another decision is being applied; try again")
        if self._stage is Stage.NEEDS_ATTENTION and self._attention is not None:
            if resolution.action not in self._attention.allowed:
                _reject_message(
                    "action",
                    f"{resolution.action} is not possible here "
                    f"(allowed: {', '.join(self._attention.allowed)})",
                )
            return
        if self._stage in (Stage.PROPAGATING, Stage.ALLOCATING_RESOURCES) and self._sla_fired:
            if resolution.action is ResolutionAction.APPROVE:
                _reject_message(
                    "action", f"nothing to approve while {self._stage}: use retry or reject"
                )
            return
        _reject_message(
            "action",
            f"the upgrade is in stage {self._stage}: decisions are taken only in needs_attention "
            "(or while escalated past the activation SLA)",
        )

    @workflow.update(name="cancel")
    async def cancel(self, request: CancelRequest) -> MessageAck:
        if self._cancel is not None:
            await workflow.wait_condition(lambda: self._stage.is_terminal)
            return MessageAck(result="duplicate", stage=self._stage, detail="already cancelled")
        # Cooperative: every wait of the forward path watches this flag and ends the saga as soon
        # as the call in flight (a short HTTP request) has returned.
        # Not asyncio task cancellation: the SDK lets an activity result that lands in the same
        # activation win over a task cancel, and the cancel would be lost.
        self._cancel = request
        await workflow.wait_condition(lambda: self._stage.is_terminal)
        return MessageAck(result="accepted", stage=self._stage, detail=self._reason or "")

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        if self._cancel is None and self._stage not in CANCELLABLE_STAGES:
            _reject_message(
                "stage", f"cannot cancel in stage {self._stage}: only before activating"
            )

    # ------------------------------------------------------------------ payment
    def _record_payment(
        self, status: PaymentStatus, amount: Any, currency: str | None, via: str
    ) -> None:
        if status is PaymentStatus.UNDER_REVIEW:
            if not self._under_review:
                self._under_review = True
                self._extend_deadline_for_review()
            self._payment = self._payment.model_copy(update={"status": status.value})
            return
        if status in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
            update: dict[str, Any] = {"status": status.value, "via": via}
            if status is PaymentStatus.SUCCEEDED:
                update["confirmed_at"] = workflow.now()
                self._paid_amount = amount if amount is not None else self._order.amount
                self._paid_currency = currency or self._order.currency
            self._payment = self._payment.model_copy(update=update)

    def _extend_deadline_for_review(self) -> None:
        # Manual review extends the payment deadline instead of escalating (DESIGN.md section 2).
        extended = workflow.now() + self._policy.review_extension
        if self._payment.deadline is None or extended > self._payment.deadline:
            self._payment = self._payment.model_copy(update={"deadline": extended})

    async def _await_payment(self) -> None:
        if self._payment.deadline is None:
            self._payment = self._payment.model_copy(
                update={
                    "deadline": self._started_at + self._policy.payment_deadline,
                    "expires_at": self._started_at + self._policy.payment_expiry,
                }
            )
        method = self._order.payment_method
        while True:
            if self._payment.status == PaymentStatus.SUCCEEDED:
                self._end_stage()
                return
            if self._payment.status == PaymentStatus.FAILED:
                raise SagaEnd(
                    Stage.FAILED, f"the {method} channel reported the payment failed", refund=False
                )
            now = workflow.now()
            assert self._payment.deadline is not None and self._payment.expires_at is not None
            if now >= self._payment.expires_at:
                raise SagaEnd(
                    Stage.EXPIRED,
                    f"no confirmed payment within {self._policy.payment_expiry} (hard expiry)",
                    refund=False,
                )
            if now >= self._payment.deadline:
                if self._under_review:
                    self._extend_deadline_for_review()
                elif EscalationReason.PAYMENT_OVERDUE not in self._ticketed():
                    await self._escalate(EscalationReason.PAYMENT_OVERDUE)
            wake = now + self._policy.poll_interval(self._payment.polls)
            if EscalationReason.PAYMENT_OVERDUE not in self._ticketed():
                wake = min(wake, self._payment.deadline)
            wake = min(wake, self._payment.expires_at)
            inline = _inline(wake - now)
            await self._poll_payment(inline)
            if self._payment_settled():
                continue
            self._maybe_continue_as_new()
            if not inline:
                await self._wait(self._payment_settled, wake - workflow.now(), "next payment poll")

    def _payment_settled(self) -> bool:
        return self._payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED)

    async def _poll_payment(self, wait: timedelta) -> None:
        order = self._order
        self._payment = self._payment.model_copy(update={"polls": self._payment.polls + 1})
        try:
            result = await self._interruptible(
                "confirm_payment_status",
                steps.PaymentStatusInput(
                    order_id=order.order_id,
                    transaction_id=order.transaction_id,
                    payment_method=order.payment_method,
                    amount=order.amount,
                    currency=order.currency,
                    wait_s=wait.total_seconds(),
                ),
                steps.PaymentStatusResult,
                retry=self._poll_retry,
                summary=f"poll {order.payment_method} for the payment status",
                # A pushed notification settles the wait at once; the poll is then abandoned.
                until=self._payment_settled,
            )
        except ActivityError as err:
            self._note_error(f"payment poll failed: {err.cause or err}")
            return
        if result is None:
            return
        if result.status is not PaymentStatus.PENDING and not self._payment_settled():
            self._record_payment(result.status, result.amount, result.currency, via="polling")

    def _maybe_continue_as_new(self) -> None:
        info = workflow.info()
        if not (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._input.history_limit
        ):
            return
        if not workflow.all_handlers_finished():
            return  # next time round: a continuation must not drop a running update
        carry = PaymentCarry(
            started_at=self._started_at,
            payment=self._payment,
            stages=self._stages,
            escalations=self._escalations,
            seen_notices=tuple(sorted(self._seen_notices)),
            under_review=self._under_review,
            continuations=self._continuations + 1,
        )
        workflow.continue_as_new(self._input.model_copy(update={"carry": carry}))

    # ------------------------------------------------------------------ forward stages
    async def _reconcile(self) -> None:
        self._enter(Stage.RECONCILING)
        order = self._order

        async def attempt() -> None:
            price = self._input.catalog_price
            mismatch = None
            if self._paid_currency != order.currency:
                mismatch = f"currency: paid in {self._paid_currency}, ordered in {order.currency}"
            elif self._paid_amount != order.amount:
                mismatch = (
                    f"amount: the channel reports {self._paid_amount} paid, "
                    f"the order is {order.amount}"
                )
            elif order.amount != price:
                mismatch = f"amount: the order's {order.amount} is not the catalog price {price}"
            if mismatch:
                raise Refusal(ErrorType.RECONCILIATION_MISMATCH, mismatch)
            await self._call(
                "reconcile_order",
                steps.ReconcileResult,
                steps.ReconcileInput(
                    order_id=order.order_id,
                    idempotency_key=self._key("reconcile"),
                    account_id=order.account_id,
                    app_id=order.app_id,
                    from_plan=order.from_plan,
                    transaction_id=order.transaction_id,
                ),
                summary="match order, payment and account",
            )

        await self._decided(attempt)
        self._end_stage()

    async def _update_billing(self) -> None:
        self._enter(Stage.UPDATING_BILLING)
        order = self._order
        self._register_undo(
            "revert_billing_plan",
            lambda: self._must(
                "revert_billing_plan",
                steps.CompensationResult,
                steps.RevertBillingInput(
                    order_id=order.order_id,
                    idempotency_key=self._key("revert_billing_plan"),
                    account_id=order.account_id,
                ),
                summary=f"revert billing to {order.from_plan}",
            ),
        )
        await self._call(
            "update_billing_plan",
            steps.BillingResult,
            steps.BillingInput(
                order_id=order.order_id,
                idempotency_key=self._key("update_billing_plan"),
                account_id=order.account_id,
                app_id=order.app_id,
                from_plan=order.from_plan,
                to_plan=order.to_plan,
                features=order.features,
            ),
            summary=f"switch billing {order.from_plan} → {order.to_plan}",
        )
        self._end_stage()

    async def _allocate_resources(self) -> None:
        self._enter(Stage.ALLOCATING_RESOURCES)
        order = self._order
        window = self._policy.allocation
        assert window is not None
        self._register_undo(
            "release_allocation",
            lambda: self._must(
                "release_allocation",
                steps.CompensationResult,
                steps.ReleaseAllocationInput(
                    order_id=order.order_id,
                    idempotency_key=self._key("release_allocation"),
                    app_id=order.app_id,
                ),
                summary="release compute allocation",
            ),
        )
        allocated = False

        async def attempt() -> None:
            nonlocal allocated
            await self._call(
                "allocate_resources",
                steps.AllocationResult,
                steps.AllocationInput(
                    order_id=order.order_id,
                    idempotency_key=self._key("allocate_resources"),
                    app_id=order.app_id,
                    regions=self._input.regions,
                    features=order.features,
                ),
                summary="reserve compute in every region",
            )
            allocated = True

        await self._decided(attempt)
        interval = self._policy.check_interval(window)
        inline = _inline(interval)
        while allocated:
            result = await self._call(
                "check_allocation",
                steps.AllocationResult,
                steps.AllocationCheckInput(
                    order_id=order.order_id, app_id=order.app_id, wait_s=inline.total_seconds()
                ),
                summary="check allocation readiness",
                poll=True,
            )
            if not result.pending_regions:
                break
            if not inline:
                await self._wait_for_decision(
                    interval, f"allocation pending in {len(result.pending_regions)} regions"
                )
            decision = self._take_resolution()
            if decision is not None and decision.action is ResolutionAction.REJECT:
                raise self._rejected(decision)
        self._end_stage()

    async def _propagate(self) -> None:
        self._enter(Stage.PROPAGATING)
        order = self._order
        window = self._policy.propagation
        if self._input.media_profile:
            profile = await self._call(
                "generate_media_profile",
                steps.MediaProfileResult,
                steps.MediaProfileInput(
                    order_id=order.order_id,
                    idempotency_key=self._key("generate_media_profile"),
                    app_id=order.app_id,
                    profile=self._input.media_profile,
                ),
                summary=f"generate {self._input.media_profile} media profile",
            )
            self._media_profile_id = profile.profile_id
        publish_input = steps.PublishConfigInput(
            order_id=order.order_id,
            idempotency_key=self._key("publish_config_version"),
            app_id=order.app_id,
            plan=order.to_plan,
            features=order.features,
            change_kinds=tuple(str(k) for k in self._input.change_kinds),
            media_profile_id=self._media_profile_id,
        )

        async def publish() -> steps.PublishConfigResult:
            return await self._call(
                "publish_config_version",
                steps.PublishConfigResult,
                publish_input,
                summary="publish the new config version",
            )

        async def rollback() -> steps.CompensationResult:
            # A publish that timed out may still have happened: replaying it with the same
            # idempotency key returns the version it created (or creates it), so the rollback
            # always knows what to undo and nets to zero.
            version = self._config_version or await publish()
            return await self._must(
                "rollback_config",
                steps.CompensationResult,
                steps.RollbackConfigInput(
                    order_id=order.order_id,
                    idempotency_key=self._key("rollback_config"),
                    app_id=order.app_id,
                    version=version.version,
                    previous_version=version.previous_version,
                ),
                summary=f"roll regions back to config v{version.previous_version}",
            )

        self._register_undo("rollback_config", rollback)
        self._config_version = await publish()
        version = self._config_version.version
        self._regions = {r: RegionProgress(region=r) for r in self._input.regions}
        await self._push(list(self._input.regions), version)
        started = workflow.now()
        next_repush = started + window.latest
        interval = self._policy.check_interval(window)
        while True:
            applied = tuple(r for r, p in self._regions.items() if p.state == "applied")
            inline = _inline(min(interval, next_repush - workflow.now()))
            check = await self._call(
                "check_propagation",
                steps.PropagationCheckResult,
                steps.PropagationCheckInput(
                    order_id=order.order_id,
                    app_id=order.app_id,
                    version=version,
                    known_applied=applied,
                    wait_s=inline.total_seconds(),
                ),
                summary=f"check which regions applied v{version}",
                poll=True,
            )
            now = workflow.now()
            for region in check.applied:
                if region in self._regions and self._regions[region].state != "applied":
                    self._regions[region] = self._regions[region].model_copy(
                        update={"state": "applied", "applied_at": now}
                    )
            self._publish()
            lagging = [r for r, p in self._regions.items() if p.state != "applied"]
            if not lagging:
                break
            if now >= next_repush:
                # Past the window: push the laggards again and keep waiting. If that does not
                # help, the activation SLA escalation brings a person (retry / reject).
                await self._push(lagging, version)
                next_repush = now + window.latest
            if not _inline(interval):
                await self._wait_for_decision(interval, f"{len(lagging)} regions still applying")
            decision = self._take_resolution()
            if decision is None:
                continue
            if decision.action is ResolutionAction.REJECT:
                raise self._rejected(decision)
            lagging = [r for r, p in self._regions.items() if p.state != "applied"]
            await self._push(lagging, version)
            next_repush = workflow.now() + window.latest
        self._end_stage()

    async def _push(self, regions: list[str], version: int) -> None:
        async def push(region: str) -> None:
            progress = self._regions[region]
            pushes = progress.pushes + 1
            result = await self._call(
                "push_config",
                steps.PushConfigResult,
                steps.PushConfigInput(
                    order_id=self._order.order_id,
                    idempotency_key=self._key(f"push_config:{region}:{pushes}"),
                    app_id=self._order.app_id,
                    version=version,
                    region=region,
                ),
                summary=f"push v{version} to {region}"
                + (f" (re-push {pushes})" if pushes > 1 else ""),
            )
            state = "applied" if result.state == "applied" else "pushed"
            if self._regions[region].state == "applied":
                state = "applied"
            self._regions[region] = self._regions[region].model_copy(
                update={"pushes": pushes, "state": state}
            )

        # Wait for every push (a cancel ends them all at once), then surface the first failure.
        outcomes = await asyncio.gather(*(push(r) for r in regions), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _activate(self) -> None:
        self._enter(Stage.ACTIVATING)
        order = self._order
        entitlements = steps.EntitlementsInput(
            order_id=order.order_id,
            idempotency_key=self._key("activate_entitlements"),
            account_id=order.account_id,
            app_id=order.app_id,
            plan=order.to_plan,
            features=order.features,
        )
        self._register_undo(
            "deactivate_entitlements",
            lambda: self._must(
                "deactivate_entitlements",
                steps.CompensationResult,
                entitlements.model_copy(update={"idempotency_key": self._key("deactivate")}),
                summary="deactivate the new entitlements",
            ),
        )
        await self._call(
            "activate_entitlements",
            steps.EntitlementsResult,
            entitlements,
            summary=f"activate {order.to_plan} entitlements",
        )
        # The console caches feature lists: without this, customers see a stale
        # "pending activation" after the upgrade is live (the article's caching trap).
        await self._call(
            "invalidate_console_cache",
            type(None),
            steps.CacheInvalidationInput(
                order_id=order.order_id,
                idempotency_key=self._key("invalidate_console_cache"),
                account_id=order.account_id,
                app_id=order.app_id,
            ),
            summary="invalidate console caches",
        )
        self._end_stage()

    async def _notify_active(self) -> None:
        self._enter(Stage.NOTIFYING)
        await self._notify("active", f"Your upgrade {self._order.summary} is active everywhere.")
        if self._media_profile_id is not None:
            await self._best_effort(
                "request_client_refresh",
                steps.ClientRefreshInput(
                    order_id=self._order.order_id,
                    idempotency_key=self._key("request_client_refresh"),
                    app_id=self._order.app_id,
                    media_profile_id=self._media_profile_id,
                ),
                summary="ask running clients to refresh their media config",
            )
        self._end_stage()

    # ------------------------------------------------------------------ decisions
    async def _decided(self, attempt: Callable[[], Awaitable[None]]) -> None:
        """Run `attempt`; on a refusal a person must decide, park in needs_attention and obey."""
        while True:
            try:
                await attempt()
                return
            except Refusal as refusal:
                if refusal.error_type not in NEEDS_ATTENTION_ERRORS:
                    raise
                decision = await self._needs_attention(refusal)
            if decision.action is ResolutionAction.APPROVE:
                return
            if decision.action is ResolutionAction.REJECT:
                raise self._rejected(decision)
            # retry: loop and run the stage again

    async def _needs_attention(self, refusal: Refusal) -> Resolution:
        resumed = self._stage
        reason = (
            EscalationReason.CAPACITY_REFUSED
            if refusal.error_type == ErrorType.CAPACITY_REFUSED
            else EscalationReason.RECONCILIATION_MISMATCH
        )
        self._note_error(refusal.message)
        self._enter(Stage.NEEDS_ATTENTION)
        self._attention = Attention(
            reason=reason,
            detail=refusal.message,
            since=workflow.now(),
            allowed=tuple(a.value for a in ResolutionAction),
        )
        self._publish()
        await self._escalate(reason, resumed_stage=resumed)
        await workflow.wait_condition(
            lambda: self._resolution is not None or self._cancel is not None,
            timeout_summary="wait for an operator decision",
        )
        self._check_cancel()
        decision = self._take_resolution()
        assert decision is not None
        self._attention = None
        self._enter(resumed)
        return decision

    def _take_resolution(self) -> Resolution | None:
        decision, self._resolution = self._resolution, None
        if decision is not None:
            workflow.logger.info("operator decision %s: %s", decision.action, decision.note or "")
        return decision

    def _rejected(self, decision: Resolution) -> SagaEnd:
        note = f": {decision.note}" if decision.note else ""
        return SagaEnd(Stage.FAILED, f"rejected by operator{note}", refund=True)

    async def _wait_for_decision(self, within: timedelta, summary: str) -> None:
        await self._wait(lambda: self._resolution is not None, within, summary)

    async def _wait(self, condition: Callable[[], bool], within: timedelta, summary: str) -> None:
        """Wait until `condition` holds or `within` has passed (a durable timer), whichever first;
        a `cancel` ends the wait and the saga."""
        self._check_cancel()
        if within > timedelta(0):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: condition() or self._cancel is not None,
                    timeout=within,
                    timeout_summary=summary,
                )
        self._check_cancel()

    def _check_cancel(self) -> None:
        if self._cancel is not None:
            raise SagaEnd(Stage.CANCELLED, self._cancel.reason, refund=True)

    # ------------------------------------------------------------------ escalation
    async def _watch_activation_sla(self) -> None:
        confirmed = self._payment.confirmed_at or workflow.now()
        self._activation_deadline = confirmed + self._policy.activation_sla
        self._publish()
        remaining = self._activation_deadline - workflow.now()
        if remaining > timedelta(0):
            await workflow.sleep(remaining, summary="activation SLA (escalate if not active)")
        self._sla_fired = True
        if not self._stage.is_terminal:
            await self._escalate(EscalationReason.ACTIVATION_SLA)

    def _record_activated(self) -> None:
        confirmed, finished = self._payment.confirmed_at, self._finished_at
        if confirmed is None or finished is None:
            return
        metrics.record_activated(
            self._order.payment_method,
            (str(k) for k in self._input.change_kinds),
            finished - confirmed,
            self._policy.time_scale,
        )

    def _ticketed(self) -> set[EscalationReason]:
        return {e.reason for e in self._escalations} | self._escalating

    async def _escalate(self, reason: EscalationReason, resumed_stage: Stage | None = None) -> None:
        """Open one ticket per order and reason (idempotent), with a diagnosis; never blocks the saga
        on anything but the ticket call itself."""
        if reason in self._ticketed():
            return
        self._escalating.add(reason)
        now = workflow.now()
        stage = resumed_stage or self._stage
        record = self._current_record()
        lagging = tuple(r for r, p in self._regions.items() if p.state != "applied")
        diagnosis = steps.Diagnosis(
            stage=stage,
            in_stage_seconds=(now - record.started_at).total_seconds() if record else 0.0,
            attempts=record.attempts if record else 0,
            last_error=record.last_error if record else None,
            lagging_regions=lagging,
            likely_cause=likely_cause(reason, stage, record.last_error if record else None),
            summary=self._order.summary,
        )
        # Its own task, awaited through a shield: a cancel arriving meanwhile must not lose a
        # ticket the platform may already have opened (it is closed when the run ends).
        await asyncio.shield(asyncio.create_task(self._open_ticket(reason, stage, now, diagnosis)))

    async def _open_ticket(
        self, reason: EscalationReason, stage: Stage, now: datetime, diagnosis: steps.Diagnosis
    ) -> None:
        result = await self._must(
            "escalate",
            steps.EscalateResult,
            steps.EscalateInput(
                order_id=self._order.order_id,
                idempotency_key=self._key(f"escalate:{reason}"),
                reason=reason,
                severity=SEVERITY[reason],
                diagnosis=diagnosis,
            ),
            summary=f"open a {reason} ticket",
        )
        self._escalating.discard(reason)
        self._escalations.append(
            Escalation(
                reason=reason,
                ticket_id=result.ticket_id,
                severity=SEVERITY[reason],
                stage=stage,
                opened_at=now,
            )
        )
        workflow.logger.warning("escalated %s: ticket %s", reason, result.ticket_id)
        metrics.record_escalated(reason)
        self._publish()

    async def _close_tickets(self, resolution: str) -> None:
        if self._sla_task is not None:
            if self._sla_fired:
                await self._sla_task  # a ticket being opened right now must be closed too
            else:
                self._sla_task.cancel()
        await workflow.wait_condition(lambda: not self._escalating)
        for index, escalation in enumerate(self._escalations):
            if escalation.closed_at is not None:
                continue
            await self._must(
                "close_ticket",
                type(None),
                steps.CloseTicketInput(
                    order_id=self._order.order_id,
                    idempotency_key=self._key(f"close_ticket:{escalation.reason}"),
                    ticket_id=escalation.ticket_id,
                    resolution=resolution,
                ),
                summary=f"close the {escalation.reason} ticket",
            )
            self._escalations[index] = escalation.model_copy(update={"closed_at": workflow.now()})

    # ------------------------------------------------------------------ ending
    async def _finish(self, stage: Stage, reason: str) -> None:
        self._end_stage()
        await self._close_tickets(f"upgrade ended {stage}: {reason}")
        self._stage = stage
        self._reason = reason
        self._finished_at = workflow.now()
        self._resolution = None
        self._stages.append(
            StageRecord(stage=stage, started_at=self._finished_at, ended_at=self._finished_at)
        )
        self._publish()
        workflow.logger.info("upgrade %s: %s", stage, reason)

    async def _unwind(self, end: SagaEnd) -> None:
        """Undo what was done, newest first; refund when money was taken; tell the customer."""
        self._end_stage()
        compensating = bool(self._undo) or (
            end.refund and self._payment.status == PaymentStatus.SUCCEEDED
        )
        if compensating:
            self._enter(Stage.COMPENSATING)
        for step, undo in reversed(self._undo):
            self._record_compensation(step, await undo())
        self._undo.clear()
        if end.refund and self._payment.status == PaymentStatus.SUCCEEDED:
            result = await self._must(
                "refund_payment",
                steps.CompensationResult,
                steps.RefundInput(
                    order_id=self._order.order_id,
                    idempotency_key=self._key("refund_payment"),
                    transaction_id=self._order.transaction_id,
                    payment_method=self._order.payment_method,
                    amount=self._paid_amount,
                    currency=self._paid_currency,
                    reason=end.reason,
                ),
                summary=f"refund {self._paid_amount} {self._paid_currency}",
            )
            self._record_compensation("refund_payment", result)
        outcome = {Stage.FAILED: "failed", Stage.CANCELLED: "cancelled", Stage.EXPIRED: "expired"}
        await self._notify(
            outcome[end.stage], f"Your upgrade {self._order.summary} {end.stage}: {end.reason}"
        )
        await self._finish(end.stage, end.reason)
        if compensating:
            metrics.record_compensated(end.stage)

    def _record_compensation(self, step: str, result: steps.CompensationResult) -> None:
        outcome = "done" if result.applied else "nothing_to_undo"
        self._compensations.append(
            CompensationRecord(step=step, outcome=outcome, at=workflow.now(), detail=result.detail)
        )
        self._publish()

    async def _notify(self, outcome: Any, message: str) -> None:
        await self._best_effort(
            "notify_customer",
            steps.NotifyInput(
                order_id=self._order.order_id,
                idempotency_key=self._key(f"notify_customer:{outcome}"),
                account_id=self._order.account_id,
                app_id=self._order.app_id,
                outcome=outcome,
                message=message,
            ),
            summary=f"tell the customer: {outcome}",
        )

    # ------------------------------------------------------------------ activity calls
    def _key(self, step: str) -> str:
        return f"{self._wf_id}:{step}"

    def _register_undo(
        self, step: str, undo: Callable[[], Awaitable[steps.CompensationResult]]
    ) -> None:
        # Registered before the forward step runs: a step that timed out may still have succeeded.
        self._undo.append((step, undo))

    async def _call(
        self,
        activity: str,
        result_type: type[T],
        arg: Any,
        *,
        summary: str,
        poll: bool = False,
    ) -> T:
        """A forward step: business refusals raise `Refusal`; other failures are recorded on the
        stage and retried after a durable backoff, forever (the SLA escalation watches)."""
        while True:
            try:
                return await self._interruptible(
                    activity,
                    arg,
                    result_type,
                    retry=self._poll_retry if poll else self._forward_retry,
                    summary=summary,
                )
            except ActivityError as err:
                refusal = _refusal_of(err)
                if refusal is not None and refusal.error_type != ErrorType.PLATFORM_CONTRACT:
                    raise refusal from err
                self._note_error(f"{summary}: {err.cause or err}")
            await self._wait(lambda: False, self._backoff, f"back off, then retry: {summary}")

    @overload
    async def _interruptible(
        self, activity: str, arg: Any, result_type: type[T], *, retry: Any, summary: str
    ) -> T: ...

    @overload
    async def _interruptible(
        self,
        activity: str,
        arg: Any,
        result_type: type[T],
        *,
        retry: Any,
        summary: str,
        until: Callable[[], bool],
    ) -> T | None: ...

    async def _interruptible(
        self,
        activity: str,
        arg: Any,
        result_type: type[T],
        *,
        retry: Any,
        summary: str,
        until: Callable[[], bool] | None = None,
    ) -> T | None:
        """Run one activity of the forward path, watching for a `cancel` (which ends the saga once
        the call in flight has finished) and, with `until`, for a reason to stop waiting for it
        (the call is left to finish on its own and None is returned: only for reads)."""
        self._check_cancel()
        call = asyncio.ensure_future(
            workflow.execute_activity(
                activity,
                arg,
                result_type=result_type,
                start_to_close_timeout=CALL_TIMEOUT,
                retry_policy=retry,
                summary=summary,
            )
        )
        stop = until or (lambda: False)
        await workflow.wait_condition(lambda: call.done() or self._cancel is not None or stop())
        if not call.done() and self._cancel is not None:
            # Let the request already sent finish before anything is undone: a compensation
            # overtaken by its own forward call would not net to zero.
            with contextlib.suppress(ActivityError):
                await call
            self._check_cancel()
        if not call.done():
            call.add_done_callback(_ignore_outcome)
            return None
        result: T = call.result()
        return result

    async def _must(self, activity: str, result_type: type[T], arg: Any, *, summary: str) -> T:
        """Compensations and tickets: retried by Temporal without limit."""
        result: T = await workflow.execute_activity(
            activity,
            arg,
            result_type=result_type,
            start_to_close_timeout=CALL_TIMEOUT,
            retry_policy=self._must_retry,
            summary=summary,
        )
        return result

    async def _best_effort(self, activity: str, arg: Any, *, summary: str) -> None:
        try:
            await workflow.execute_activity(
                activity,
                arg,
                start_to_close_timeout=CALL_TIMEOUT,
                retry_policy=self._best_effort_retry,
                summary=summary,
            )
        except ActivityError as err:
            workflow.logger.warning("best-effort step failed, going on: %s: %s", summary, err.cause)

    # ------------------------------------------------------------------ state and visibility
    def _enter(self, stage: Stage) -> None:
        self._stage = stage
        self._stages.append(StageRecord(stage=stage, started_at=workflow.now()))
        self._publish()

    def _current_record(self) -> StageRecord | None:
        for record in reversed(self._stages):
            if record.stage is not Stage.NEEDS_ATTENTION:
                return record
        return None

    def _end_stage(self) -> None:
        if self._stages and self._stages[-1].ended_at is None:
            self._stages[-1] = self._stages[-1].model_copy(update={"ended_at": workflow.now()})

    def _note_error(self, message: str) -> None:
        if self._stages:
            last = self._stages[-1]
            self._stages[-1] = last.model_copy(
                update={"attempts": last.attempts + 1, "last_error": message[:500]}
            )
        workflow.logger.warning("%s", message)

    def _eta(self) -> Eta:
        stage = self._stage
        if stage is Stage.ACTIVE:
            return Eta(earliest=self._finished_at, latest=self._finished_at, basis="activated")
        if stage.is_terminal or stage is Stage.COMPENSATING:
            return Eta(earliest=None, latest=None, basis=f"will not activate: {stage}")
        if stage is Stage.NEEDS_ATTENTION:
            return Eta(earliest=None, latest=None, basis="waiting for an operator decision")
        record = self._stages[-1]
        return estimate_eta(
            self._policy, self._order.payment_method, stage, record.started_at, workflow.now()
        )

    def _status(self) -> UpgradeStatus:
        order = self._order
        return UpgradeStatus(
            order_id=order.order_id,
            workflow_id=self._wf_id,
            summary=order.summary,
            stage=self._stage,
            reason=self._reason,
            payment_method=order.payment_method,
            target_plan=order.to_plan,
            change_kinds=[str(k) for k in self._input.change_kinds],
            started_at=self._started_at,
            updated_at=workflow.now(),
            finished_at=self._finished_at,
            activation_deadline=self._activation_deadline,
            payment=self._payment,
            stages=list(self._stages),
            regions=list(self._regions.values()),
            escalated=bool(self._escalations),
            escalations=list(self._escalations),
            attention=self._attention,
            cancel_requested=self._cancel.reason if self._cancel else None,
            eta=self._eta(),
            compensations=list(self._compensations),
        )

    def _publish(self) -> None:
        """Keep search attributes and the UI's current details in step with the state.

        Only changed attributes are upserted: each upsert is a history event.
        """
        status = self._status()
        eta = status.eta
        wanted: dict[str, Any] = {
            "stage": (sa.UPGRADE_STAGE, self._stage.value),
            "escalated": (sa.ESCALATED, bool(self._escalations)),
            "deadline": (sa.ACTIVATION_DEADLINE, self._activation_deadline),
            "eta": (sa.ACTIVATION_ETA, eta.latest),
        }
        updates = []
        for name, (key, value) in wanted.items():
            if value is None or self._published.get(name) == value:
                continue
            self._published[name] = value
            updates.append(key.value_set(value))
        if updates:
            workflow.upsert_search_attributes(updates)
        workflow.set_current_details(details_markdown(status))
