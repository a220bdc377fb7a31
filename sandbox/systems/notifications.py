"""Customer notifications and the client-refresh request (running SDK clients re-fetch config,
needed for `media_quality` changes): fire-and-forget effects, recorded in the ledger only."""

from domain.effects import Effect
from sandbox.schemas import ClientRefreshIn, NotificationIn, NotificationOut, RefreshOut
from sandbox.systems.call import Call, digest


def notify_customer(call: Call, body: NotificationIn) -> NotificationOut:
    if call.key is None:
        raise RuntimeError("a notification needs the call's idempotency key")
    notification_id = f"ntf-{digest(call.key)}"
    # The message text stays out of the ledger: it is customer-facing prose, not audit data.
    call.effect(
        Effect.NOTIFY_CUSTOMER,
        body.order_id,
        notification_id=notification_id,
        app_id=body.app_id,
        outcome=body.outcome,
    )
    return NotificationOut(notification_id=notification_id)


def request_client_refresh(call: Call, app_id: str, body: ClientRefreshIn) -> RefreshOut:
    call.effect(
        Effect.REQUEST_CLIENT_REFRESH,
        body.order_id,
        app_id=app_id,
        media_profile_id=body.media_profile_id,
    )
    return RefreshOut(requested=True)
