"""The platform's effects as its ledger names them: `system/action`, the action being the name
of the activity that asks for it, so one effect has one name from the saga to the audit.

The sandbox records one ledger entry per applied effect (reads such as `confirm_payment_status`,
`check_allocation` or `check_propagation` apply nothing and have none); the audit and the
end-to-end tests count them. The system is the platform system that holds the effect: media
profiles, the console cache and the clients' refresh belong to their own systems even though one
activity class (config, entitlements, notifications) asks for them.
"""

from enum import StrEnum

from domain.steps import COMPENSATION


class Effect(StrEnum):
    RECONCILE_ORDER = "orders/reconcile_order"
    UPDATE_BILLING_PLAN = "billing/update_billing_plan"
    REVERT_BILLING_PLAN = "billing/revert_billing_plan"
    ALLOCATE_RESOURCES = "scheduler/allocate_resources"
    RELEASE_ALLOCATION = "scheduler/release_allocation"
    GENERATE_MEDIA_PROFILE = "media/generate_media_profile"
    PUBLISH_CONFIG_VERSION = "config/publish_config_version"
    PUSH_CONFIG = "config/push_config"
    ROLLBACK_CONFIG = "config/rollback_config"
    ACTIVATE_ENTITLEMENTS = "entitlements/activate_entitlements"
    DEACTIVATE_ENTITLEMENTS = "entitlements/deactivate_entitlements"
    INVALIDATE_CONSOLE_CACHE = "console/invalidate_console_cache"
    NOTIFY_CUSTOMER = "notifications/notify_customer"
    REQUEST_CLIENT_REFRESH = "clients/request_client_refresh"
    REFUND_PAYMENT = "payments/refund_payment"
    ESCALATE = "tickets/escalate"
    CLOSE_TICKET = "tickets/close_ticket"

    @property
    def system(self) -> str:
        return self.value.partition("/")[0]

    @property
    def action(self) -> str:
        """The activity's name (the ledger's `action` column)."""
        return self.value.partition("/")[2]


# The step (the end of the idempotency key, `upgrade-{order_id}:refund_surplus`) of the refund of
# an approved overpayment's surplus: a partial refund an order that ends active keeps, not an
# undo (the money check judges its amount).
SURPLUS_REFUND_STEP = "refund_surplus"


# A forward effect and the compensation that undoes it: an order that did not end active has
# both or neither. (A refund undoes the customer's payment, which is not a platform effect.)
# The pairs are the saga's own (`domain.steps.COMPENSATION`), named here as ledger effects.
UNDONE_BY: dict[Effect, Effect] = {
    Effect[forward.name]: Effect[undo.name] for forward, undo in COMPENSATION.items()
}
