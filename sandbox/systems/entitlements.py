"""Entitlements (one grant per order: the plan and add-ons switched on for an app) and the
console cache that must be invalidated so the console stops showing "pending activation"."""

import json

from domain.effects import Effect
from sandbox.errors import Unprocessable
from sandbox.schemas import (
    ActivateIn,
    ActiveOut,
    CacheInvalidateIn,
    CompensationOut,
    DeactivateIn,
    InvalidatedOut,
)
from sandbox.store import to_iso
from sandbox.systems.call import Call, check_features, check_plan


def active(call: Call, app_id: str) -> ActiveOut:
    """What the app may use now: the newest live grant's plan, then every live add-on once."""
    grants = call.tx.all(
        "SELECT plan, features FROM entitlement_grants "
        "WHERE app_id = ? AND deactivated_at IS NULL ORDER BY activated_at, order_id",
        app_id,
    )
    if not grants:
        return ActiveOut(active=[])
    names = [f"plan:{grants[-1]['plan']}"]
    for grant in grants:
        names.extend(feature for feature in json.loads(grant["features"]) if feature not in names)
    return ActiveOut(active=names)


def activate_entitlements(call: Call, app_id: str, body: ActivateIn) -> ActiveOut:
    check_plan(call.catalog, body.plan, "plan")
    check_features(call.catalog, body.features)
    live = call.tx.one(
        "SELECT app_id FROM entitlement_grants WHERE order_id = ? AND deactivated_at IS NULL",
        body.order_id,
    )
    if live is not None:
        if live["app_id"] != app_id:
            raise Unprocessable(
                f"order {body.order_id} already activated another app", field="app_id"
            )
        return active(call, app_id)
    call.tx.insert(
        "entitlement_grants",
        {
            "order_id": body.order_id,
            "app_id": app_id,
            "account_id": body.account_id,
            "plan": body.plan,
            "features": json.dumps(body.features),
            "activated_at": to_iso(call.now),
            "deactivated_at": None,
        },
        replace=True,  # a deactivated grant may be activated again
    )
    call.effect(
        Effect.ACTIVATE_ENTITLEMENTS,
        body.order_id,
        app_id=app_id,
        plan=body.plan,
        features=body.features,
    )
    return active(call, app_id)


def deactivate_entitlements(call: Call, app_id: str, body: DeactivateIn) -> CompensationOut:
    grant = call.tx.one(
        "SELECT deactivated_at FROM entitlement_grants WHERE order_id = ? AND app_id = ?",
        body.order_id,
        app_id,
    )
    if grant is None:
        return CompensationOut(
            applied=False, detail=f"order {body.order_id} activated nothing on app {app_id}"
        )
    if grant["deactivated_at"] is not None:
        return CompensationOut(
            applied=False, detail=f"already deactivated at {grant['deactivated_at']}"
        )
    call.tx.execute(
        "UPDATE entitlement_grants SET deactivated_at = ? WHERE order_id = ?",
        to_iso(call.now),
        body.order_id,
    )
    call.effect(Effect.DEACTIVATE_ENTITLEMENTS, body.order_id, app_id=app_id)
    return CompensationOut(applied=True, detail=f"deactivated the grant of order {body.order_id}")


def invalidate_console_cache(call: Call, body: CacheInvalidateIn) -> InvalidatedOut:
    call.effect(
        Effect.INVALIDATE_CONSOLE_CACHE,
        body.order_id,
        account_id=body.account_id,
        app_id=body.app_id,
    )
    return InvalidatedOut(invalidated=True)
