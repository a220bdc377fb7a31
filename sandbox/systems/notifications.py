"""Customer notifications and the client-refresh request (running SDK clients re-fetch config,
needed for `media_quality` changes): fire-and-forget effects, recorded in the ledger only."""

from sandbox.schemas import ClientRefreshIn, NotificationIn, NotificationOut, RefreshOut
from sandbox.systems.call import Call, digest


def notify(call: Call, body: NotificationIn) -> NotificationOut:
    if call.key is None:
        raise RuntimeError("a notification needs the call's idempotency key")
    notification_id = f"ntf-{digest(call.key)}"
    # The message text stays out of the ledger: it is customer-facing prose, not audit data.
    call.effect(
        "notifications",
        "notify",
        body.order_id,
        notification_id=notification_id,
        app_id=body.app_id,
        outcome=body.outcome,
    )
    return NotificationOut(notification_id=notification_id)


def refresh_clients(call: Call, app_id: str, body: ClientRefreshIn) -> RefreshOut:
    call.effect(
        "clients",
        "refresh",
        body.order_id,
        app_id=app_id,
        media_profile_id=body.media_profile_id,
    )
    return RefreshOut(requested=True)
