"""An in-memory stand-in for the platform: every activity under its real name (`Activity`), with
scripted behaviour, recording each call under the name it was called by. Used by workflow tests
(time-skipping) and the in-process benchmark.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import lease_activities
from domain import steps
from domain.apply_latency import ApplyLatency, ApplyLatencyInput, KindLatency
from domain.catalog import load_catalog
from domain.errors import ErrorType
from domain.models import PaymentStatus
from domain.steps import Activity


def fake_latency(
    factor: float = 1.0,
    *,
    time_scale: float = 1.0,
    pushes: int = 8,
    peak: bool = False,
    load_range: tuple[float, float] | None = None,
) -> ApplyLatency:
    """What the sandbox reports off-peak (`sandbox.systems.apply_latency`), `factor` times slower;
    seconds divided by `time_scale`; `load_range`: (`load_factor_low`, `load_factor_high`), how
    far the load may move by a push to come (None: a reading without them)."""

    def kind(low_min: float, typical_min: float, high_min: float) -> KindLatency:
        per = 60 * factor / time_scale
        return KindLatency(low_s=low_min * per, typical_s=typical_min * per, high_s=high_min * per)

    basic, advanced = kind(19.2, 21.9, 22.5), kind(58.4, 63.8, 65.0)
    return ApplyLatency(
        at=datetime(2026, 1, 1, tzinfo=UTC),
        pushes_in_flight=pushes,
        peak=peak,
        load_factor=factor,
        load_factor_low=load_range[0] if load_range else None,
        load_factor_high=load_range[1] if load_range else None,
        kinds={
            "plan": basic,
            "media_quality": basic,
            "advanced_permission": advanced,
            "capability": advanced,
        },
    )


@dataclass
class FakePlatform:
    # Payment statuses returned by successive polls; the last one repeats.
    payment_statuses: list[PaymentStatus] = field(default_factory=lambda: [PaymentStatus.SUCCEEDED])
    paid_amount_delta: Decimal = Decimal("0")
    reconcile_refusals: int = 0  # how many reconcile calls refuse before one succeeds
    capacity_refusals: int = 0
    # Checks of the propagation before every region reports applied; None = never (lag).
    propagation_checks: int | None = 0
    # Real seconds the billing call takes (a slow platform: the next task starts that much later).
    billing_delay_s: float = 0.0
    # When set, payment polls hang after signalling `poll_started`, until `release_polls` is set.
    block_polls: bool = False
    poll_started: asyncio.Event = field(default_factory=asyncio.Event)
    release_polls: asyncio.Event = field(default_factory=asyncio.Event)
    # The platform's apply latency (`read_apply_latency`); None: the read fails (no evidence).
    apply_latency: ApplyLatency | None = field(default_factory=lambda: fake_latency())
    calls: list[tuple[str, str]] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)
    polls: int = 0
    _checks: int = 0
    _billing_done: bool = False

    def _record(self, arg: steps.Step, detail: str = "") -> None:
        """Log a call under its activity type name (`name:detail` with a detail)."""
        name = activity.info().activity_type + (f":{detail}" if detail else "")
        self.calls.append((name, getattr(arg, "idempotency_key", "")))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def activities(self) -> list[Callable[..., Any]]:
        fake = self

        @activity.defn(name=Activity.CONFIRM_PAYMENT_STATUS)
        async def confirm_payment_status(
            arg: steps.PaymentStatusInput,
        ) -> steps.PaymentStatusResult:
            fake._record(arg)
            if fake.block_polls:
                fake.poll_started.set()
                await fake.release_polls.wait()
            index = min(fake.polls, len(fake.payment_statuses) - 1)
            fake.polls += 1
            status = fake.payment_statuses[index]
            return steps.PaymentStatusResult(
                status=status, amount=arg.amount + fake.paid_amount_delta, currency=arg.currency
            )

        @activity.defn(name=Activity.REFUND_PAYMENT)
        async def refund_payment(arg: steps.RefundInput) -> steps.CompensationResult:
            fake._record(arg)
            fake.effects.append("refund")
            return steps.CompensationResult(applied=True)

        @activity.defn(name=Activity.RECONCILE_ORDER)
        async def reconcile_order(arg: steps.ReconcileInput) -> steps.ReconcileResult:
            fake._record(arg)
            if fake.reconcile_refusals > 0:
                fake.reconcile_refusals -= 1
                raise ApplicationError(
                    "from_plan: the account is on standard, not basic",
                    type=ErrorType.RECONCILIATION_MISMATCH,
                    non_retryable=True,
                )
            return steps.ReconcileResult(account_plan=arg.from_plan)

        @activity.defn(name=Activity.UPDATE_BILLING_PLAN)
        async def update_billing_plan(arg: steps.BillingInput) -> steps.BillingResult:
            fake._record(arg)
            if fake.billing_delay_s:
                await asyncio.sleep(fake.billing_delay_s)
            fake._billing_done = True
            fake.effects.append("billing")
            return steps.BillingResult(
                previous_plan=arg.from_plan, plan=arg.to_plan, quota_rules=f"monthly:{arg.to_plan}"
            )

        @activity.defn(name=Activity.REVERT_BILLING_PLAN)
        async def revert_billing_plan(arg: steps.RevertBillingInput) -> steps.CompensationResult:
            fake._record(arg)
            applied = fake._billing_done
            if applied:
                fake.effects.append("revert_billing")
            return steps.CompensationResult(applied=applied)

        @activity.defn(name=Activity.ALLOCATE_RESOURCES)
        async def allocate_resources(arg: steps.AllocationInput) -> steps.AllocationResult:
            fake._record(arg)
            if fake.capacity_refusals > 0:
                fake.capacity_refusals -= 1
                raise ApplicationError(
                    "regions: no capacity in eu-west",
                    type=ErrorType.CAPACITY_REFUSED,
                    non_retryable=True,
                )
            return steps.AllocationResult(
                allocation_id="alloc-1", ready_regions=(), pending_regions=arg.regions
            )

        @activity.defn(name=Activity.CHECK_ALLOCATION)
        async def check_allocation(arg: steps.AllocationCheckInput) -> steps.AllocationResult:
            fake._record(arg)
            return steps.AllocationResult(
                allocation_id="alloc-1", ready_regions=("cn-north",), pending_regions=()
            )

        @activity.defn(name=Activity.RELEASE_ALLOCATION)
        async def release_allocation(arg: steps.ReleaseAllocationInput) -> steps.CompensationResult:
            fake._record(arg)
            return steps.CompensationResult(applied=True)

        @activity.defn(name=Activity.GENERATE_MEDIA_PROFILE)
        async def generate_media_profile(arg: steps.MediaProfileInput) -> steps.MediaProfileResult:
            fake._record(arg)
            return steps.MediaProfileResult(
                profile_id=f"mp-{arg.profile}", resolution="1920x1080", max_bitrate_kbps=4000
            )

        @activity.defn(name=Activity.PUBLISH_CONFIG_VERSION)
        async def publish_config_version(
            arg: steps.PublishConfigInput,
        ) -> steps.PublishConfigResult:
            fake._record(arg)
            return steps.PublishConfigResult(version=2, previous_version=1)

        @activity.defn(name=Activity.PUSH_CONFIG)
        async def push_config(arg: steps.PushConfigInput) -> steps.PushConfigResult:
            fake._record(arg)
            return steps.PushConfigResult(region=arg.region, state="pushed")

        @activity.defn(name=Activity.CHECK_PROPAGATION)
        async def check_propagation(
            arg: steps.PropagationCheckInput,
        ) -> steps.PropagationCheckResult:
            fake._record(arg)
            fake._checks += 1
            done = fake.propagation_checks is not None and fake._checks > fake.propagation_checks
            regions = load_catalog().regions
            if done:
                return steps.PropagationCheckResult(applied=regions, pending=())
            return steps.PropagationCheckResult(applied=regions[:6], pending=regions[6:])

        @activity.defn(name=Activity.READ_APPLY_LATENCY)
        async def read_apply_latency(arg: ApplyLatencyInput) -> ApplyLatency:
            fake._record(arg)
            if fake.apply_latency is None:
                raise ApplicationError("apply latency unavailable", type="PlatformUnavailable")
            return fake.apply_latency

        @activity.defn(name=Activity.ROLLBACK_CONFIG)
        async def rollback_config(arg: steps.RollbackConfigInput) -> steps.CompensationResult:
            fake._record(arg)
            return steps.CompensationResult(applied=True)

        @activity.defn(name=Activity.ACTIVATE_ENTITLEMENTS)
        async def activate_entitlements(arg: steps.EntitlementsInput) -> steps.EntitlementsResult:
            fake._record(arg)
            return steps.EntitlementsResult(active=arg.features)

        @activity.defn(name=Activity.DEACTIVATE_ENTITLEMENTS)
        async def deactivate_entitlements(arg: steps.EntitlementsInput) -> steps.CompensationResult:
            fake._record(arg)
            return steps.CompensationResult(applied=True)

        @activity.defn(name=Activity.INVALIDATE_CONSOLE_CACHE)
        async def invalidate_console_cache(arg: steps.CacheInvalidationInput) -> None:
            fake._record(arg)

        @activity.defn(name=Activity.NOTIFY_CUSTOMER)
        async def notify_customer(arg: steps.NotifyInput) -> None:
            fake._record(arg, arg.outcome)

        @activity.defn(name=Activity.REQUEST_CLIENT_REFRESH)
        async def request_client_refresh(arg: steps.ClientRefreshInput) -> None:
            fake._record(arg)

        @activity.defn(name=Activity.ESCALATE)
        async def escalate(arg: steps.EscalateInput) -> steps.EscalateResult:
            fake._record(arg, arg.reason)
            return steps.EscalateResult(ticket_id=f"TCK-{arg.reason}")

        @activity.defn(name=Activity.CLOSE_TICKET)
        async def close_ticket(arg: steps.CloseTicketInput) -> None:
            fake._record(arg, arg.ticket_id)

        return [
            confirm_payment_status,
            refund_payment,
            reconcile_order,
            update_billing_plan,
            revert_billing_plan,
            allocate_resources,
            check_allocation,
            release_allocation,
            generate_media_profile,
            publish_config_version,
            push_config,
            check_propagation,
            read_apply_latency,
            rollback_config,
            activate_entitlements,
            deactivate_entitlements,
            invalidate_console_cache,
            notify_customer,
            request_client_refresh,
            escalate,
            close_ticket,
            *lease_activities(),
        ]
