"""Every side effect of the saga: one module per external system, each a class of Temporal
activities whose constructor receives the shared `PlatformClient` (HTTP, `activities.http`).

Boundary: activities call the platform and translate its answers into `domain.steps` results or
typed Temporal errors (`activities.contract`); they decide nothing about the saga's course.
The activity modules import no HTTP library, so the workflow can import the classes (passed
through its sandbox) to reference their methods cheaply; only `create_platform_client` loads
`httpx`.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from activities.billing import BillingActivities
from activities.config import ConfigActivities
from activities.custody import CustodyActivities
from activities.entitlements import EntitlementActivities
from activities.lease import LeaseActivities
from activities.notifications import NotificationActivities
from activities.orders import OrderActivities
from activities.payments import PaymentActivities
from activities.scheduler import SchedulerActivities
from activities.tickets import TicketActivities

if TYPE_CHECKING:
    from activities.http import PlatformClient, PlatformSettings

__all__ = [
    "BillingActivities",
    "ConfigActivities",
    "CustodyActivities",
    "EntitlementActivities",
    "LeaseActivities",
    "NotificationActivities",
    "OrderActivities",
    "PaymentActivities",
    "SchedulerActivities",
    "TicketActivities",
    "build_activities",
    "create_platform_client",
    "lease_activities",
]


def build_activities(client: "PlatformClient") -> list[Callable[..., Any]]:
    """Every activity, bound to one shared client, for `Worker(activities=...)`."""
    payments = PaymentActivities(client)
    orders = OrderActivities(client)
    billing = BillingActivities(client)
    scheduler = SchedulerActivities(client)
    config = ConfigActivities(client)
    entitlements = EntitlementActivities(client)
    notifications = NotificationActivities(client)
    tickets = TicketActivities(client)
    custody = CustodyActivities(client)
    return [
        payments.confirm_payment_status,
        payments.refund_payment,
        orders.reconcile_order,
        billing.update_billing_plan,
        billing.revert_billing_plan,
        scheduler.allocate_resources,
        scheduler.check_allocation,
        scheduler.release_allocation,
        config.generate_media_profile,
        config.publish_config_version,
        config.push_config,
        config.check_propagation,
        config.read_apply_latency,
        config.rollback_config,
        entitlements.activate_entitlements,
        entitlements.deactivate_entitlements,
        entitlements.invalidate_console_cache,
        notifications.notify_customer,
        notifications.request_client_refresh,
        tickets.escalate,
        tickets.close_ticket,
        custody.read_transaction_claim,
        custody.refund_held_payment,
        custody.open_custody_ticket,
        custody.close_custody_ticket,
        *lease_activities(),
    ]


def lease_activities() -> list[Callable[..., Any]]:
    """The account lease's activities (Temporal calls, no platform): every worker runs them."""
    lease = LeaseActivities()
    return [lease.request_account_lease, lease.run_closed]


def create_platform_client(settings: "PlatformSettings") -> "PlatformClient":
    """The client for the configured platform (`UPGRADE_PLATFORM_URL`); close it on shutdown."""
    from activities.http import PlatformClient

    return PlatformClient.from_settings(settings)
