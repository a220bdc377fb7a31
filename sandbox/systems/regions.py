"""What each region of the config service serves: the newest version pushed to it whose
propagation delay has elapsed since its first push there (versions only move forward).

Computed on every read from the pushes and the clock (`sandbox.scenarios.propagation_delay`), so
the store keeps timestamps only, like the rest of the sandbox. Under load a push applies slower
(`sandbox.load`): by the factor of the moment of its first push, counted off the other pushes'
timestamps. Boundary: reads; the pushes are
written by `sandbox.systems.config`.
"""

import json
import sqlite3
from datetime import datetime

from sandbox import scenarios
from sandbox.load import in_flight_window
from sandbox.store import from_iso, to_iso
from sandbox.systems.call import Call


def served(call: Call, app_id: str) -> dict[str, sqlite3.Row | None]:
    """Every catalog region -> the version row it serves now (None: nothing applied yet)."""
    # Newest first, read lazily: a region serves the newest version it has applied, so the scan
    # stops once every region is decided (usually after one row each), however long the app's
    # history of versions.
    rows = call.tx.execute(
        "SELECT p.region, p.first_push_at, v.* FROM config_pushes p JOIN config_versions v "
        "ON v.app_id = p.app_id AND v.version = p.version WHERE p.app_id = ? "
        "ORDER BY p.version DESC",
        app_id,
    )
    serving: dict[str, sqlite3.Row | None] = dict.fromkeys(call.catalog.regions)
    undecided = set(serving)
    for row in rows:
        region = row["region"]
        if region not in undecided:
            continue
        kinds: list[str] = json.loads(row["change_kinds"])
        first_push = from_iso(row["first_push_at"])
        load = call.load.factor(in_flight(call, first_push), first_push)
        delay = scenarios.propagation_delay(app_id, region, kinds, call.time_scale, load)
        if call.now - first_push >= delay:
            serving[region] = row
            undecided.discard(region)
            if not undecided:
                break
    return serving


def in_flight(call: Call, at: datetime) -> int:
    """Region pushes (of every app) first made in the in-flight window up to `at` (`load`)."""
    since = at - in_flight_window(call.time_scale)
    return call.tx.scalar(
        "SELECT COUNT(*) FROM config_pushes WHERE first_push_at > ? AND first_push_at <= ?",
        to_iso(since),
        to_iso(at),
    )


def newest_pushed(call: Call, app_id: str, region: str) -> int:
    """The newest version ever pushed to `region` (0 if none): older pushes are superseded."""
    return call.tx.scalar(
        "SELECT COALESCE(MAX(version), 0) FROM config_pushes WHERE app_id = ? AND region = ?",
        app_id,
        region,
    )


def holds(row: sqlite3.Row, order_id: str) -> bool:
    """Whether a version holds `order_id`'s config (it was live when the version was made)."""
    orders: list[str] = json.loads(row["orders"])
    return order_id in orders
