"""The one rule by which billing, config and entitlements say what an account or app has: a fold
over its live (not undone) orders. Plan: the highest tier among them (and the account's base plan,
for billing); add-ons: their union, in catalog order.

Why a fold, not "the last write wins": orders of one account overlap (an upgrade, then an add-on
while the first still propagates), and their compensations may run in any order. A fold does not
depend on that order: undoing an order recomputes from the ones still live, so undos commute and
net to zero, and no undo can restore a snapshot that wipes out another order (issue 11).
"""

import json
from collections.abc import Iterable
from typing import NamedTuple

from domain.catalog import Catalog


class Part(NamedTuple):
    """One live order's contribution: its plan and its add-ons."""

    plan: str
    features: tuple[str, ...]


class Folded(NamedTuple):
    plan: str | None  # None: nothing live and no base
    features: list[str]


def part(plan: str, features_json: str) -> Part:
    """A contribution as stored (features as a JSON list)."""
    return Part(plan, tuple(json.loads(features_json)))


def fold(catalog: Catalog, parts: Iterable[Part], base: str | None = None) -> Folded:
    parts_list = list(parts)
    plans = [p.plan for p in parts_list] + ([base] if base is not None else [])
    plan = max(plans, key=lambda name: catalog.plans[name].tier) if plans else None
    wanted = {feature for p in parts_list for feature in p.features}
    # Catalog order, not arrival order: the same live orders give the same answer, whatever
    # order they (and the undos of others) came in.
    # (Every name was checked against the catalog when its order came in.)
    return Folded(plan, [name for name in catalog.addons if name in wanted])
