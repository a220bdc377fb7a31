"""Notification activities: tell the customer the outcome, ask running clients to refresh their
config (needed for `media_quality` changes). Best effort in the saga, but still idempotent."""

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel
from temporalio import activity

from activities.contract import parse, path
from domain.steps import Activity, ClientRefreshInput, NotifyInput

if TYPE_CHECKING:
    from activities.http import PlatformClient


class _Notified(BaseModel):
    notification_id: str


class _Requested(BaseModel):
    requested: Literal[True]


class NotificationActivities:
    def __init__(self, client: "PlatformClient") -> None:
        self._platform = client

    @activity.defn(name=Activity.NOTIFY_CUSTOMER)
    async def notify_customer(self, inp: NotifyInput) -> None:
        route = "/v1/notifications"
        data = await self._platform.post(
            route,
            {
                "order_id": inp.order_id,
                "account_id": inp.account_id,
                "app_id": inp.app_id,
                "outcome": inp.outcome,
                "message": inp.message,
            },
            inp.idempotency_key,
        )
        notified = parse(_Notified, data, route)
        # The message itself is customer-facing text: never logged.
        activity.logger.info(
            "order %s: customer notified (%s, %s)",
            inp.order_id,
            inp.outcome,
            notified.notification_id,
        )

    @activity.defn(name=Activity.REQUEST_CLIENT_REFRESH)
    async def request_client_refresh(self, inp: ClientRefreshInput) -> None:
        route = path("/v1/clients/apps/{}/refresh", inp.app_id)
        data = await self._platform.post(
            route,
            {"order_id": inp.order_id, "media_profile_id": inp.media_profile_id},
            inp.idempotency_key,
        )
        parse(_Requested, data, route)
        activity.logger.info("order %s: client refresh requested", inp.order_id)
