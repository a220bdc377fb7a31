"""The platform as instant in-process activities, under the real activity names (`Activity`), for
REAL-inproc.

Each activity answers at once with what the sandbox answers on a normal run: the payment channel
still says `pending` (the payment arrives by notification, the `confirm_payment` update, as the
benchmark drives it), every region reports applied on the first check. Nothing is recorded, so
the worker's memory holds only what Temporal and the workflow hold (the test double in
`tests/support/fakes.py` keeps a call log, which would grow with every upgrade).

Boundary: no I/O, no state; the saga's own code (`workflows.upgrade`) is untouched.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from temporalio import activity

from activities import lease_activities
from domain import steps
from domain.apply_latency import ApplyLatency, ApplyLatencyInput
from domain.models import PaymentStatus
from domain.steps import Activity


@activity.defn(name=Activity.CONFIRM_PAYMENT_STATUS)
async def confirm_payment_status(arg: steps.PaymentStatusInput) -> steps.PaymentStatusResult:
    return steps.PaymentStatusResult(status=PaymentStatus.PENDING)


@activity.defn(name=Activity.REFUND_PAYMENT)
async def refund_payment(arg: steps.RefundInput) -> steps.CompensationResult:
    return steps.CompensationResult(applied=True)


@activity.defn(name=Activity.RECONCILE_ORDER)
async def reconcile_order(arg: steps.ReconcileInput) -> steps.ReconcileResult:
    return steps.ReconcileResult(account_plan=arg.from_plan)


@activity.defn(name=Activity.UPDATE_BILLING_PLAN)
async def update_billing_plan(arg: steps.BillingInput) -> steps.BillingResult:
    return steps.BillingResult(
        previous_plan=arg.from_plan, plan=arg.to_plan, quota_rules=f"monthly:{arg.to_plan}"
    )


@activity.defn(name=Activity.REVERT_BILLING_PLAN)
async def revert_billing_plan(arg: steps.RevertBillingInput) -> steps.CompensationResult:
    return steps.CompensationResult(applied=True)


@activity.defn(name=Activity.ALLOCATE_RESOURCES)
async def allocate_resources(arg: steps.AllocationInput) -> steps.AllocationResult:
    return steps.AllocationResult(
        allocation_id=f"alloc-{arg.order_id}", ready_regions=arg.regions, pending_regions=()
    )


@activity.defn(name=Activity.CHECK_ALLOCATION)
async def check_allocation(arg: steps.AllocationCheckInput) -> steps.AllocationResult:
    return steps.AllocationResult(
        allocation_id=f"alloc-{arg.order_id}", ready_regions=(), pending_regions=()
    )


@activity.defn(name=Activity.RELEASE_ALLOCATION)
async def release_allocation(arg: steps.ReleaseAllocationInput) -> steps.CompensationResult:
    return steps.CompensationResult(applied=True)


@activity.defn(name=Activity.GENERATE_MEDIA_PROFILE)
async def generate_media_profile(arg: steps.MediaProfileInput) -> steps.MediaProfileResult:
    return steps.MediaProfileResult(
        profile_id=f"mp-{arg.profile}", resolution="1920x1080", max_bitrate_kbps=4500
    )


@activity.defn(name=Activity.PUBLISH_CONFIG_VERSION)
async def publish_config_version(arg: steps.PublishConfigInput) -> steps.PublishConfigResult:
    return steps.PublishConfigResult(version=2, previous_version=1)


@activity.defn(name=Activity.PUSH_CONFIG)
async def push_config(arg: steps.PushConfigInput) -> steps.PushConfigResult:
    return steps.PushConfigResult(region=arg.region, state="pushed")


@activity.defn(name=Activity.CHECK_PROPAGATION)
async def check_propagation(arg: steps.PropagationCheckInput) -> steps.PropagationCheckResult:
    from domain.catalog import load_catalog

    return steps.PropagationCheckResult(applied=load_catalog().regions, pending=())


@activity.defn(name=Activity.READ_APPLY_LATENCY)
async def read_apply_latency(arg: ApplyLatencyInput) -> ApplyLatency:
    # Nothing per kind: the ETA keeps the policy's window (an instant platform has no latency).
    return ApplyLatency(
        at=datetime.now(UTC), pushes_in_flight=0, peak=False, load_factor=1.0, kinds={}
    )


@activity.defn(name=Activity.ROLLBACK_CONFIG)
async def rollback_config(arg: steps.RollbackConfigInput) -> steps.CompensationResult:
    return steps.CompensationResult(applied=True)


@activity.defn(name=Activity.ACTIVATE_ENTITLEMENTS)
async def activate_entitlements(arg: steps.EntitlementsInput) -> steps.EntitlementsResult:
    return steps.EntitlementsResult(active=arg.features)


@activity.defn(name=Activity.DEACTIVATE_ENTITLEMENTS)
async def deactivate_entitlements(arg: steps.EntitlementsInput) -> steps.CompensationResult:
    return steps.CompensationResult(applied=True)


@activity.defn(name=Activity.INVALIDATE_CONSOLE_CACHE)
async def invalidate_console_cache(arg: steps.CacheInvalidationInput) -> None:
    return None


@activity.defn(name=Activity.NOTIFY_CUSTOMER)
async def notify_customer(arg: steps.NotifyInput) -> None:
    return None


@activity.defn(name=Activity.REQUEST_CLIENT_REFRESH)
async def request_client_refresh(arg: steps.ClientRefreshInput) -> None:
    return None


@activity.defn(name=Activity.ESCALATE)
async def escalate(arg: steps.EscalateInput) -> steps.EscalateResult:
    return steps.EscalateResult(ticket_id=f"TCK-{arg.order_id}-{arg.reason}")


@activity.defn(name=Activity.CLOSE_TICKET)
async def close_ticket(arg: steps.CloseTicketInput) -> None:
    return None


def instant_activities() -> list[Callable[..., Any]]:
    return [
        confirm_payment_status, refund_payment, reconcile_order, update_billing_plan,
        revert_billing_plan, allocate_resources, check_allocation, release_allocation,
        generate_media_profile, publish_config_version, push_config, check_propagation,
        read_apply_latency, rollback_config, activate_entitlements, deactivate_entitlements,
        invalidate_console_cache, notify_customer, request_client_refresh, escalate, close_ticket,
        *lease_activities(),
    ]  # fmt: skip
