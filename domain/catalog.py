"""The product catalog (plans, add-ons, regions) loaded from `catalog.json`, and upgrade pricing.

Data, not code: prices and add-ons change by editing the JSON. Pricing rule: the difference of the
plans' monthly prices plus the monthly prices of the add-ons; a lower tier is not an upgrade.
"""

import json
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources

from domain.errors import InvalidOrder
from domain.frozen import Frozen


class ChangeKind(StrEnum):
    PLAN = "plan"
    ADVANCED_PERMISSION = "advanced_permission"
    CAPABILITY = "capability"
    MEDIA_QUALITY = "media_quality"


class Plan(Frozen):
    name: str
    tier: int
    monthly_price: Decimal


class AddOn(Frozen):
    name: str
    kind: ChangeKind
    monthly_price: Decimal
    media_profile: str | None = None


class Catalog(Frozen):
    currency: str
    plans: dict[str, Plan]
    addons: dict[str, AddOn]
    regions: tuple[str, ...]

    def plan(self, name: str, field: str) -> Plan:
        try:
            return self.plans[name]
        except KeyError:
            known = ", ".join(self.plans)
            raise InvalidOrder(field, f"unknown plan {name!r} (known: {known})") from None

    def addon(self, name: str, field: str = "features") -> AddOn:
        try:
            return self.addons[name]
        except KeyError:
            known = ", ".join(self.addons)
            raise InvalidOrder(field, f"unknown feature {name!r} (known: {known})") from None

    def check_upgrade(self, from_plan: str, to_plan: str, features: tuple[str, ...]) -> None:
        """Raise `InvalidOrder` unless this is an upgrade the catalog can price."""
        source = self.plan(from_plan, "from_plan")
        target = self.plan(to_plan, "to_plan")
        for feature in features:
            self.addon(feature)
        if target.tier < source.tier:
            raise InvalidOrder(
                "to_plan", f"{to_plan!r} is a lower tier than {from_plan!r}: downgrades are refused"
            )
        if target.tier == source.tier and not features:
            raise InvalidOrder(
                "to_plan", f"{to_plan!r} is the current plan and no feature is added"
            )

    def price(self, from_plan: str, to_plan: str, features: tuple[str, ...]) -> Decimal:
        self.check_upgrade(from_plan, to_plan, features)
        plans = self.plans[to_plan].monthly_price - self.plans[from_plan].monthly_price
        addons = sum((self.addons[f].monthly_price for f in features), Decimal("0"))
        return (plans + addons).quantize(Decimal("0.01"))

    def change_kinds(
        self, from_plan: str, to_plan: str, features: tuple[str, ...]
    ) -> list[ChangeKind]:
        """The kinds of change an upgrade makes, in the catalog's canonical order."""
        kinds = {self.addons[f].kind for f in features}
        if self.plans[to_plan].tier > self.plans[from_plan].tier:
            kinds.add(ChangeKind.PLAN)
        return [k for k in ChangeKind if k in kinds]

    def media_profile(self, features: tuple[str, ...]) -> str | None:
        """The highest media profile among the features (the catalog lists them ascending)."""
        profiles = [a.media_profile for name, a in self.addons.items() if name in features]
        chosen = [p for p in profiles if p]
        return chosen[-1] if chosen else None


@cache
def load_catalog() -> Catalog:
    raw = json.loads(resources.files("domain").joinpath("catalog.json").read_text("utf-8"))
    return Catalog(
        currency=raw["currency"],
        plans={name: Plan(name=name, **p) for name, p in raw["plans"].items()},
        addons={name: AddOn(name=name, **a) for name, a in raw["addons"].items()},
        regions=tuple(raw["regions"]),
    )
