"""Media profiles and the regional config service: versions per app, pushes per region (the
first push starts the region's clock, re-pushes never restart it), propagation state, rollback."""

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
    RegionsOut,
    RollbackIn,
)
from sandbox.store import from_iso, to_iso
from sandbox.systems.call import Call, check_features, check_plan, check_region


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
    latest = call.tx.scalar(
        "SELECT COALESCE(MAX(version), 0) FROM config_versions WHERE app_id = ?", app_id
    )
    # The version regions fall back to on rollback: the newest one still standing.
    live = call.tx.scalar(
        "SELECT COALESCE(MAX(version), 0) FROM config_versions "
        "WHERE app_id = ? AND rolled_back_at IS NULL",
        app_id,
    )
    version = latest + 1
    kinds = [kind.value for kind in body.change_kinds]
    call.tx.insert(
        "config_versions",
        {
            "app_id": app_id,
            "version": version,
            "previous_version": live,
            "order_id": body.order_id,
            "plan": body.plan,
            "features": json.dumps(body.features),
            "change_kinds": json.dumps(kinds),
            "media_profile_id": body.media_profile_id,
            "published_at": to_iso(call.now),
        },
    )
    call.effect(
        Effect.PUBLISH_CONFIG_VERSION,
        body.order_id,
        app_id=app_id,
        version=version,
        previous_version=live,
        change_kinds=kinds,
    )
    return PublishOut(version=version, previous_version=live)


def _applied(call: Call, app_id: str, kinds: list[str], push: sqlite3.Row | None) -> bool:
    if push is None:
        return False
    delay = scenarios.propagation_delay(app_id, push["region"], kinds, call.time_scale)
    return call.now - from_iso(push["first_push_at"]) >= delay


def push_config(call: Call, app_id: str, version: int, body: PushIn) -> PushOut:
    row = _version(call, app_id, version)
    check_region(call.catalog, body.region)
    if row["rolled_back_at"] is not None:
        raise Unprocessable(
            f"config version {version} of app {app_id} was rolled back; publish a new one",
            field="version",
            type="VersionRolledBack",
        )
    where = "WHERE app_id = ? AND version = ? AND region = ?"
    ids = (app_id, version, body.region)
    state = call.tx.one(f"SELECT * FROM config_pushes {where}", *ids)
    if state is None:
        call.tx.insert(
            "config_pushes",
            {
                "app_id": app_id,
                "version": version,
                "region": body.region,
                "first_push_at": to_iso(call.now),
                "pushes": 1,
            },
        )
        pushes = 1
    else:
        # A re-push is recorded but does not restart the region's clock: it only nudges.
        pushes = int(state["pushes"]) + 1
        call.tx.execute(f"UPDATE config_pushes SET pushes = ? {where}", pushes, *ids)
    call.effect(
        Effect.PUSH_CONFIG,
        body.order_id,
        app_id=app_id,
        version=version,
        region=body.region,
        push=pushes,
    )
    state = call.tx.one(f"SELECT * FROM config_pushes {where}", *ids)
    applied = _applied(call, app_id, json.loads(row["change_kinds"]), state)
    return PushOut(region=body.region, state="applied" if applied else "pushed")


def check_propagation(call: Call, app_id: str, version: int) -> RegionsOut:
    """Every catalog region, in catalog order: applied, or pending (never pushed or still slow)."""
    row = _version(call, app_id, version)
    kinds: list[str] = json.loads(row["change_kinds"])
    pushes = {
        state["region"]: state
        for state in call.tx.all(
            "SELECT * FROM config_pushes WHERE app_id = ? AND version = ?", app_id, version
        )
    }
    applied: list[str] = []
    pending: list[str] = []
    for region in call.catalog.regions:
        (applied if _applied(call, app_id, kinds, pushes.get(region)) else pending).append(region)
    return RegionsOut(applied=applied, pending=pending)


def rollback_config(call: Call, app_id: str, body: RollbackIn) -> CompensationOut:
    row = call.tx.one(
        "SELECT * FROM config_versions WHERE app_id = ? AND version = ?", app_id, body.version
    )
    if row is None:
        return CompensationOut(
            applied=False, detail=f"app {app_id} never published version {body.version}"
        )
    if row["order_id"] != body.order_id:
        # Never undo another order's config: a compensation must not break a neighbour.
        return CompensationOut(
            applied=False, detail=f"version {body.version} belongs to another order; left as is"
        )
    if row["rolled_back_at"] is not None:
        return CompensationOut(
            applied=False, detail=f"already rolled back at {row['rolled_back_at']}"
        )
    call.tx.execute(
        "UPDATE config_versions SET rolled_back_at = ? WHERE app_id = ? AND version = ?",
        to_iso(call.now),
        app_id,
        body.version,
    )
    restored = int(row["previous_version"])
    call.effect(
        Effect.ROLLBACK_CONFIG,
        body.order_id,
        app_id=app_id,
        version=body.version,
        restored_version=restored,
    )
    return CompensationOut(applied=True, detail=f"rolled back version {body.version} to {restored}")
