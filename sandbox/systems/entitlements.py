"""Entitlements (one grant per order: the plan and add-ons switched on for an app) and the
console cache that must be invalidated so the console stops showing "pending activation".

What an app may use is the fold of its live grants (`sandbox.systems.fold`): the HIGHEST tier
among them, not the newest, and the union of their add-ons. A deactivated order is marked
(`sandbox.systems.marks`): its late activation is refused with `409 OrderCompensated`.
"""

import json

from domain.effects import Effect
from sandbox.errors import NotFound, Unprocessable
from sandbox.schemas import (
    ActivateIn,
    ActiveOut,
    CacheInvalidateIn,
    CompensationOut,
    DeactivateIn,
    EntitlementsOut,
    InvalidatedOut,
)
from sandbox.store import to_iso
from sandbox.systems import marks
from sandbox.systems.call import Call, check_features, check_plan
from sandbox.systems.fold import Folded, fold, part

SYSTEM = "entitlements"


def _effective(call: Call, app_id: str) -> Folded:
    grants = call.tx.all(
        "SELECT plan, features FROM entitlement_grants "
        "WHERE app_id = ? AND deactivated_at IS NULL ORDER BY activated_at, order_id",
        app_id,
    )
    return fold(call.catalog, (part(g["plan"], g["features"]) for g in grants))


def active(call: Call, app_id: str) -> ActiveOut:
    """What the app may use now: `plan:<highest tier>`, then every live add-on once."""
    effective = _effective(call, app_id)
    if effective.plan is None:
        return ActiveOut(active=[])
    return ActiveOut(active=[f"plan:{effective.plan}", *effective.features])


def activate_entitlements(call: Call, app_id: str, body: ActivateIn) -> ActiveOut:
    check_plan(call.catalog, body.plan, "plan")
    check_features(call.catalog, body.features)
    marks.refuse_if_marked(call, SYSTEM, body.order_id, "an activation")
    granted = call.tx.one(
        "SELECT app_id FROM entitlement_grants WHERE order_id = ?",
        body.order_id,
    )
    if granted is not None:
        if granted["app_id"] != app_id:
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
    # Marked even when there is nothing to undo: the activation may still be on its way.
    marks.mark(call, SYSTEM, body.order_id, app_id)
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


def read_entitlements(call: Call, app_id: str) -> EntitlementsOut:
    """The effective state of the app; 404 if the platform has never seen it."""
    owner = call.tx.one(
        "SELECT account_id FROM entitlement_grants WHERE app_id = ? "
        "ORDER BY activated_at DESC, order_id DESC LIMIT 1",
        app_id,
    ) or call.tx.one("SELECT account_id FROM apps WHERE app_id = ?", app_id)
    if owner is None:
        raise NotFound(f"the platform has never seen app {app_id}", field="app_id")
    effective = _effective(call, app_id)
    return EntitlementsOut(
        app_id=app_id,
        account_id=owner["account_id"],
        plan=effective.plan,
        features=effective.features if effective.plan is not None else [],
    )


def invalidate_console_cache(call: Call, body: CacheInvalidateIn) -> InvalidatedOut:
    call.effect(
        Effect.INVALIDATE_CONSOLE_CACHE,
        body.order_id,
        account_id=body.account_id,
        app_id=body.app_id,
    )
    return InvalidatedOut(invalidated=True)
