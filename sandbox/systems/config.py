"""Media profiles and the regional config service: versions per app, pushes per region (the
first push starts the region's clock, re-pushes never restart it), propagation state, rollback.

A version holds the app's WHOLE desired config: the fold of every live order's plan and add-ons
(`sandbox.systems.fold`), so a newer version never loses what an older one gave another order.
Each region serves one version at a time and only moves forward (`sandbox.systems.regions`): a
push of a version older than one already pushed there is `superseded` and has no effect. Rollback
ROLLS FORWARD: a new version without the order, pushed to every region at once (a region that
never received the order's config gets it too, so that an older version still on its way there,
e.g. another order's push, is superseded instead of bringing the undone config back). A rolled-
back order is marked (`sandbox.systems.marks`): its late publish or push is refused.

For the saga of today (which checks the version its order published): a region serving a newer
version that still holds the order counts as having applied the order's version.

Over ~300 lines: publish, push, check and rollback share one invariant (a region only moves
forward to a whole config) and are read together; what a region serves is `regions`.
"""

import json
import sqlite3

from domain.effects import Effect
from sandbox import scenarios
from sandbox.errors import NotFound, Unprocessable
from sandbox.schemas import (
    CompensationOut,
    MediaProfileIn,
    MediaProfileOut,
    PublishIn,
    PublishOut,
    PushIn,
    PushOut,
    RegionsCurrentOut,
    RegionServes,
    RegionsOut,
    RollbackIn,
)
from sandbox.store import to_iso
from sandbox.systems import marks, regions
from sandbox.systems.call import Call, check_features, check_plan, check_region
from sandbox.systems.fold import Folded, fold, part

SYSTEM = "config"


# Media profiles --------------------------------------------------------------------------------
def generate_media_profile(call: Call, body: MediaProfileIn) -> MediaProfileOut:
    spec = scenarios.MEDIA_PROFILES.get(body.profile)
    if spec is None:
        known = ", ".join(scenarios.MEDIA_PROFILES)
        raise Unprocessable(
            f"unknown media profile {body.profile!r} (known: {known})", field="profile"
        )
    # Derived from the order: regenerating for the same order yields the same profile id.
    profile_id = f"mp-{body.order_id}-{body.profile}"
    call.tx.insert(
        "media_profiles",
        {
            "profile_id": profile_id,
            "order_id": body.order_id,
            "app_id": body.app_id,
            "profile": body.profile,
            "resolution": spec.resolution,
            "max_bitrate_kbps": spec.max_bitrate_kbps,
            "generated_at": to_iso(call.now),
        },
        replace=True,
    )
    call.effect(
        Effect.GENERATE_MEDIA_PROFILE,
        body.order_id,
        app_id=body.app_id,
        profile_id=profile_id,
        profile=body.profile,
    )
    return MediaProfileOut(
        profile_id=profile_id, resolution=spec.resolution, max_bitrate_kbps=spec.max_bitrate_kbps
    )


# Config versions -------------------------------------------------------------------------------
def _version(call: Call, app_id: str, version: int) -> sqlite3.Row:
    row = call.tx.one(
        "SELECT * FROM config_versions WHERE app_id = ? AND version = ?", app_id, version
    )
    if row is None:
        raise NotFound(f"app {app_id} has no config version {version}", field="version")
    return row


def _latest(call: Call, app_id: str) -> int:
    return call.tx.scalar(
        "SELECT COALESCE(MAX(version), 0) FROM config_versions WHERE app_id = ?", app_id
    )


def _live(call: Call, app_id: str) -> tuple[Folded, list[str]]:
    """The fold of the app's live orders, and their ids (in publish order)."""
    rows = call.tx.all(
        "SELECT order_id, plan, features FROM config_orders "
        "WHERE app_id = ? AND rolled_back_at IS NULL ORDER BY version",
        app_id,
    )
    folded = fold(call.catalog, (part(r["plan"], r["features"]) for r in rows))
    return folded, [r["order_id"] for r in rows]


def _new_version(
    call: Call,
    app_id: str,
    *,
    order_id: str,
    cause: str,
    kinds: list[str],
    media_profile_id: str | None = None,
) -> tuple[int, int, Folded]:
    """Write the next version of the app: the whole desired config as of now."""
    latest = _latest(call, app_id)
    folded, orders = _live(call, app_id)
    call.tx.insert(
        "config_versions",
        {
            "app_id": app_id,
            "version": latest + 1,
            "previous_version": latest,
            "order_id": order_id,
            "cause": cause,
            "plan": folded.plan,
            "features": json.dumps(folded.features),
            "orders": json.dumps(orders),
            "change_kinds": json.dumps(kinds),
            "media_profile_id": media_profile_id,
            "published_at": to_iso(call.now),
        },
    )
    return latest + 1, latest, folded


def publish_config_version(call: Call, app_id: str, body: PublishIn) -> PublishOut:
    check_plan(call.catalog, body.plan, "plan")
    check_features(call.catalog, body.features)
    if (
        body.media_profile_id is not None
        and call.tx.one("SELECT 1 FROM media_profiles WHERE profile_id = ?", body.media_profile_id)
        is None
    ):
        raise Unprocessable(
            f"unknown media profile {body.media_profile_id!r}", field="media_profile_id"
        )
    marks.refuse_if_marked(call, SYSTEM, body.order_id, "a publish")
    mine = call.tx.one(
        "SELECT version FROM config_orders WHERE app_id = ? AND order_id = ?",
        app_id,
        body.order_id,
    )
    if mine is not None:
        # One version per order: another key for the same order answers the version it made.
        row = _version(call, app_id, int(mine["version"]))
        return PublishOut(version=row["version"], previous_version=row["previous_version"])
    kinds = [kind.value for kind in body.change_kinds]
    call.tx.insert(
        "config_orders",
        {
            "app_id": app_id,
            "order_id": body.order_id,
            "version": _latest(call, app_id) + 1,
            "plan": body.plan,
            "features": json.dumps(body.features),
            "change_kinds": json.dumps(kinds),
            "published_at": to_iso(call.now),
            "rolled_back_at": None,
        },
    )
    version, previous, folded = _new_version(
        call,
        app_id,
        order_id=body.order_id,
        cause="publish",
        kinds=kinds,
        media_profile_id=body.media_profile_id,
    )
    call.effect(
        Effect.PUBLISH_CONFIG_VERSION,
        body.order_id,
        app_id=app_id,
        version=version,
        previous_version=previous,
        change_kinds=kinds,
        plan=folded.plan,
        features=folded.features,
    )
    return PublishOut(version=version, previous_version=previous)


def _record_push(call: Call, app_id: str, version: int, region: str) -> int:
    """Record a push; the first one starts the region's clock. Returns the push count."""
    where = "WHERE app_id = ? AND version = ? AND region = ?"
    ids = (app_id, version, region)
    state = call.tx.one(f"SELECT pushes FROM config_pushes {where}", *ids)
    if state is None:
        call.tx.insert(
            "config_pushes",
            {
                "app_id": app_id,
                "version": version,
                "region": region,
                "first_push_at": to_iso(call.now),
                "pushes": 1,
            },
        )
        return 1
    # A re-push is recorded but does not restart the region's clock: it only nudges.
    pushes = int(state["pushes"]) + 1
    call.tx.execute(f"UPDATE config_pushes SET pushes = ? {where}", pushes, *ids)
    return pushes


def push_config(call: Call, app_id: str, version: int, body: PushIn) -> PushOut:
    row = _version(call, app_id, version)
    check_region(call.catalog, body.region)
    marks.refuse_if_marked(call, SYSTEM, body.order_id, "a push")
    if row["rolled_back_at"] is not None:
        raise Unprocessable(
            f"config version {version} of app {app_id} was rolled back; publish a new one",
            field="version",
            type="VersionRolledBack",
        )
    if regions.newest_pushed(call, app_id, body.region) > version:
        # Never backwards: the region already serves or applies a newer whole config.
        return PushOut(region=body.region, state="superseded")
    pushes = _record_push(call, app_id, version, body.region)
    call.effect(
        Effect.PUSH_CONFIG,
        body.order_id,
        app_id=app_id,
        version=version,
        region=body.region,
        push=pushes,
    )
    serving = regions.served(call, app_id)[body.region]
    applied = serving is not None and serving["version"] >= version
    return PushOut(region=body.region, state="applied" if applied else "pushed")


def check_propagation(call: Call, app_id: str, version: int) -> RegionsOut:
    """Every catalog region, in catalog order: applied (it serves this version, or a newer one
    that still holds this version's order), or pending (never pushed or still slow)."""
    row = _version(call, app_id, version)
    applied: list[str] = []
    pending: list[str] = []
    for region, serving in regions.served(call, app_id).items():
        done = serving is not None and (
            serving["version"] == version
            or (
                serving["version"] > version
                and (row["cause"] == "rollback" or regions.holds(serving, row["order_id"]))
            )
        )
        (applied if done else pending).append(region)
    return RegionsOut(applied=applied, pending=pending)


def rollback_config(call: Call, app_id: str, body: RollbackIn) -> CompensationOut:
    """Take the order out of the app's config by rolling FORWARD to a version without it."""
    # Marked even when there is nothing to undo: the publish may still be on its way.
    marks.mark(call, SYSTEM, body.order_id, app_id)
    mine = call.tx.one(
        "SELECT * FROM config_orders WHERE app_id = ? AND order_id = ?", app_id, body.order_id
    )
    if mine is None:
        row = call.tx.one(
            "SELECT order_id FROM config_versions WHERE app_id = ? AND version = ?",
            app_id,
            body.version,
        )
        if row is not None:
            # Never undo another order's config: a compensation must not break a neighbour.
            return CompensationOut(
                applied=False, detail=f"version {body.version} belongs to another order; left as is"
            )
        return CompensationOut(
            applied=False, detail=f"app {app_id} never published version {body.version}"
        )
    if mine["rolled_back_at"] is not None:
        return CompensationOut(
            applied=False, detail=f"already rolled back at {mine['rolled_back_at']}"
        )
    now = to_iso(call.now)
    call.tx.execute(
        "UPDATE config_orders SET rolled_back_at = ? WHERE app_id = ? AND order_id = ?",
        now,
        app_id,
        body.order_id,
    )
    call.tx.execute(
        "UPDATE config_versions SET rolled_back_at = ? WHERE app_id = ? AND version = ?",
        now,
        app_id,
        mine["version"],
    )
    kinds: list[str] = json.loads(mine["change_kinds"])
    version, _, folded = _new_version(
        call, app_id, order_id=body.order_id, cause="rollback", kinds=kinds
    )
    for region in call.catalog.regions:
        _record_push(call, app_id, version, region)
    call.effect(
        Effect.ROLLBACK_CONFIG,
        body.order_id,
        app_id=app_id,
        version=mine["version"],
        new_version=version,
        plan=folded.plan,
        features=folded.features,
        pushed_to=list(call.catalog.regions),
    )
    return CompensationOut(
        applied=True,
        detail=f"rolled back version {mine['version']}: every region moves forward to version "
        f"{version}, without order {body.order_id}",
    )


def read_regions(call: Call, app_id: str) -> RegionsCurrentOut:
    """What each catalog region serves now: version 0 and no plan where nothing was applied."""
    answer: dict[str, RegionServes] = {}
    for region, serving in regions.served(call, app_id).items():
        if serving is None:
            answer[region] = RegionServes(version=0, plan=None, features=[])
        else:
            answer[region] = RegionServes(
                version=serving["version"],
                plan=serving["plan"],
                features=json.loads(serving["features"]),
            )
    return RegionsCurrentOut(app_id=app_id, regions=answer)
