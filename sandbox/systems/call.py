"""The context every simulated system works in (`Call`) and the input checks they share."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.catalog import Catalog
from domain.effects import Effect
from sandbox.errors import Unprocessable
from sandbox.load import LoadProfile
from sandbox.store import Tx


@dataclass(frozen=True)
class Call:
    """One call's view of the world: its transaction, the time, the scale, its idempotency key."""

    tx: Tx
    now: datetime
    time_scale: float
    catalog: Catalog
    key: str | None = None
    # Payment methods whose settled payments the sandbox's channel notifier announces before
    # the query API shows them (`sandbox.notifier.held`); empty when no notifier runs.
    held_channels: frozenset[str] = frozenset()
    # How the config service slows down under load (`sandbox.load`); default: only by crowding.
    load: LoadProfile = field(default_factory=LoadProfile)

    def effect(self, effect: Effect, order_id: str, **detail: Any) -> None:
        """Record an effect in the ledger, under this call's idempotency key."""
        if self.key is None:
            # Reads and admin calls have no key and, by construction, no effects.
            raise RuntimeError(f"{effect} attempted without an idempotency key")
        self.tx.record_effect(
            system=effect.system,
            action=effect.action,
            order_id=order_id,
            key=self.key,
            at=self.now,
            detail=detail,
        )


def check_plan(catalog: Catalog, plan: str, field: str) -> None:
    if plan not in catalog.plans:
        known = ", ".join(catalog.plans)
        raise Unprocessable(f"unknown plan {plan!r} (known: {known})", field=field)


def check_features(catalog: Catalog, features: list[str]) -> None:
    for feature in features:
        if feature not in catalog.addons:
            raise Unprocessable(f"unknown feature {feature!r}", field="features")


def check_region(catalog: Catalog, region: str, field: str = "region") -> None:
    if region not in catalog.regions:
        raise Unprocessable(
            f"unknown region {region!r} (known: {', '.join(catalog.regions)})", field=field
        )


def digest(*parts: str) -> str:
    """A short stable id fragment: ids derived from inputs stay the same on every replay."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]
