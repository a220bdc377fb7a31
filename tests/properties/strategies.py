"""Hypothesis strategies for the public messages, valid and invalid, shared by the model, CLI and
ingress property tests.

Every invalid case is a `Bad(data, field)`: a message that differs from a valid one in exactly one
way, and the field a correct refusal must name. Kinds of badness: malformed, oversized,
wrong-typed, negative or out-of-range values; unknown plans, features and methods; downgrades;
duplicate features; bad currencies; bad ids; unknown and missing fields.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from pydantic import ValidationError

from domain.catalog import load_catalog
from domain.errors import InvalidOrder
from domain.models import PaymentMethod, PaymentStatus, ResolutionAction

CATALOG = load_catalog()
PLANS = {name: plan.tier for name, plan in CATALOG.plans.items()}
ADDONS = tuple(CATALOG.addons)
ORDER_ID_FIELDS = ("order_id", "account_id", "app_id", "transaction_id")
ORDER_FIELDS = (
    "order_id", "account_id", "app_id", "from_plan", "to_plan", "features",
    "payment_method", "transaction_id", "amount", "currency",
)  # fmt: skip
REQUIRED_ORDER_FIELDS = tuple(f for f in ORDER_FIELDS if f not in ("features", "currency"))
NOTICE_FIELDS = ("order_id", "transaction_id", "amount", "currency", "status")


@dataclass(frozen=True)
class Bad:
    """An invalid message and the field its refusal must name."""

    data: dict[str, Any]
    field: str


# ------------------------------------------------------------------------------- valid values
ID_FIRST = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
ID_REST = ID_FIRST + "._:-"

identifiers = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(ID_FIRST),
    st.text(ID_REST, max_size=63),
)
amounts = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("9999999999.99"), places=2, allow_nan=False
)
currencies = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3)
methods = st.sampled_from([m.value for m in PaymentMethod])


@st.composite
def upgrades(draw: st.DrawFn) -> tuple[str, str, tuple[str, ...]]:
    """(from_plan, to_plan, features) that the catalog accepts as an upgrade."""
    from_plan = draw(st.sampled_from(sorted(PLANS)))
    to_plan = draw(st.sampled_from([p for p, tier in PLANS.items() if tier >= PLANS[from_plan]]))
    features = tuple(draw(st.lists(st.sampled_from(ADDONS), unique=True, max_size=len(ADDONS))))
    if PLANS[to_plan] == PLANS[from_plan] and not features:
        features = (draw(st.sampled_from(ADDONS)),)
    return from_plan, to_plan, features


@st.composite
def valid_orders(draw: st.DrawFn) -> dict[str, Any]:
    """Order data that must validate (the amount need not be the catalog price: that mismatch is
    a reconciliation decision for a person, not invalid input)."""
    from_plan, to_plan, features = draw(upgrades())
    data: dict[str, Any] = {f: draw(identifiers) for f in ORDER_ID_FIELDS}
    data |= {
        "from_plan": from_plan,
        "to_plan": to_plan,
        "features": list(features),
        "payment_method": draw(methods),
        "amount": draw(st.one_of(amounts, amounts.map(str))),
        "currency": draw(currencies),
    }
    return data


@st.composite
def valid_notices(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "order_id": draw(identifiers),
        "transaction_id": draw(identifiers),
        "amount": draw(amounts),
        "currency": draw(currencies),
        "status": draw(st.sampled_from(["succeeded", "failed", "under_review"])),
    }


# ----------------------------------------------------------------------------- invalid values
# Values of the wrong JSON type for a string field.
wrong_types_for_str = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _not_id_char(c: str) -> bool:
    return c not in ID_REST


bad_identifiers = st.one_of(
    st.just(""),
    st.text(" \t\n\r", min_size=1, max_size=5),  # blank once stripped
    st.builds(  # a forbidden character inside
        lambda a, c, b: a + c + b,
        identifiers.filter(lambda s: len(s) < 30),
        st.characters(codec="utf-8").filter(_not_id_char).filter(lambda c: not c.isspace()),
        st.text(ID_REST, max_size=10),
    ),
    st.builds(lambda p, s: p + s, st.sampled_from("._:-/#"), identifiers),  # bad first char
    st.builds(  # too long: 65 to 400 characters
        lambda first, rest: first + rest,
        st.sampled_from(ID_FIRST),
        st.text(ID_REST, min_size=64, max_size=399),
    ),
    st.just("A" * 100_000),  # oversized
    wrong_types_for_str,
)

bad_amounts = st.one_of(
    st.decimals(max_value=Decimal("0"), places=2, allow_nan=False, allow_infinity=False),
    st.decimals(max_value=Decimal("0"), places=2, allow_nan=False).map(str),  # negative, zero
    st.builds(  # three or more decimal places, the last one not zero
        lambda whole, frac, last: Decimal(f"{whole}.{frac}{last}"),
        st.integers(0, 10**6),
        st.text("0123456789", min_size=2, max_size=6),
        st.sampled_from("123456789"),
    ),
    st.integers(min_value=10**10, max_value=10**30).map(str),  # too many digits
    st.sampled_from(["NaN", "Infinity", "-Infinity", "inf", "sNaN"]),
    st.text("abcdefghijklmnopqrstuvwxyz,;$¥ ", min_size=1, max_size=20),  # not a number
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)

bad_currencies = st.one_of(
    st.text(min_size=0, max_size=8).filter(
        lambda s: not (len(s) == 3 and all("A" <= c <= "Z" for c in s))
    ),
    currencies.map(str.lower),
    wrong_types_for_str,
)

unknown_names = st.text(min_size=1, max_size=40)
unknown_plans = st.one_of(unknown_names.filter(lambda s: s not in PLANS), wrong_types_for_str)
unknown_methods = st.one_of(
    unknown_names.filter(lambda s: s not in {m.value for m in PaymentMethod}),
    wrong_types_for_str,
)
unknown_fields = st.text(min_size=1, max_size=30)


@st.composite
def bad_features(draw: st.DrawFn, base: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(data, field) with the features list broken one way: duplicate, unknown, too many, typed."""
    kind = draw(st.sampled_from(["duplicate", "unknown", "too_many", "wrong_type"]))
    features = list(base["features"]) or [draw(st.sampled_from(ADDONS))]
    if kind == "duplicate":
        features.insert(draw(st.integers(0, len(features))), draw(st.sampled_from(features)))
        return base | {"features": features}, "features"
    if kind == "unknown":
        name = draw(unknown_names.filter(lambda s: s not in ADDONS))
        features.insert(draw(st.integers(0, len(features))), name)
        return base | {"features": features}, "features"
    if kind == "too_many":
        extra = draw(st.lists(unknown_names, min_size=17, max_size=30, unique=True))
        return base | {"features": extra}, "features"
    value = draw(
        st.one_of(
            st.integers(),
            st.text(min_size=1, max_size=10),  # a string is not a list of features
            st.lists(st.integers(), min_size=1, max_size=3),
            st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=2),
        )
    )
    return base | {"features": value}, "features"


@st.composite
def bad_orders(draw: st.DrawFn) -> Bad:
    """A valid order broken in exactly one way."""
    base = draw(valid_orders())
    kind = draw(
        st.sampled_from(
            ["id", "plan", "downgrade", "same_plan", "features", "method", "amount",
             "currency", "missing", "unknown_field"]
        )
    )  # fmt: skip
    if kind == "id":
        field = draw(st.sampled_from(ORDER_ID_FIELDS))
        return Bad(base | {field: draw(bad_identifiers)}, field)
    if kind == "plan":
        field = draw(st.sampled_from(["from_plan", "to_plan"]))
        return Bad(base | {field: draw(unknown_plans)}, field)
    if kind == "downgrade":
        high = draw(st.sampled_from([p for p, t in PLANS.items() if t > 0]))
        low = draw(st.sampled_from([p for p, t in PLANS.items() if t < PLANS[high]]))
        return Bad(base | {"from_plan": high, "to_plan": low}, "to_plan")
    if kind == "same_plan":
        plan = draw(st.sampled_from(sorted(PLANS)))
        return Bad(base | {"from_plan": plan, "to_plan": plan, "features": []}, "to_plan")
    if kind == "features":
        data, field = draw(bad_features(base))
        return Bad(data, field)
    if kind == "method":
        return Bad(base | {"payment_method": draw(unknown_methods)}, "payment_method")
    if kind == "amount":
        return Bad(base | {"amount": draw(bad_amounts)}, "amount")
    if kind == "currency":
        return Bad(base | {"currency": draw(bad_currencies)}, "currency")
    if kind == "missing":
        field = draw(st.sampled_from(REQUIRED_ORDER_FIELDS))
        return Bad({k: v for k, v in base.items() if k != field}, field)
    name = draw(unknown_fields.filter(lambda s: s not in ORDER_FIELDS))
    return Bad(base | {name: draw(st.integers() | st.text(max_size=5))}, name)


@st.composite
def bad_notices(draw: st.DrawFn) -> Bad:
    base = draw(valid_notices())
    kind = draw(st.sampled_from(["id", "amount", "currency", "status", "missing", "unknown"]))
    if kind == "id":
        field = draw(st.sampled_from(["order_id", "transaction_id"]))
        return Bad(base | {field: draw(bad_identifiers)}, field)
    if kind == "amount":
        return Bad(base | {"amount": draw(bad_amounts)}, "amount")
    if kind == "currency":
        return Bad(base | {"currency": draw(bad_currencies)}, "currency")
    if kind == "status":
        allowed = {"succeeded", "failed", "under_review"}
        value = draw(
            st.one_of(
                st.sampled_from([s.value for s in PaymentStatus if s.value not in allowed]),
                unknown_names.filter(lambda s: s not in allowed),
                wrong_types_for_str,
            )
        )
        return Bad(base | {"status": value}, "status")
    if kind == "missing":
        field = draw(st.sampled_from(["order_id", "transaction_id", "amount"]))
        return Bad({k: v for k, v in base.items() if k != field}, field)
    name = draw(unknown_fields.filter(lambda s: s not in NOTICE_FIELDS))
    return Bad(base | {name: 1}, name)


# Free text longer than the limit even after stripping surrounding whitespace.
def too_long_text(limit: int) -> st.SearchStrategy[str]:
    return st.builds(
        lambda a, middle, b: a + middle + b,
        st.characters(codec="utf-8").filter(lambda c: not c.isspace()),
        st.text(min_size=limit, max_size=limit * 4),
        st.characters(codec="utf-8").filter(lambda c: not c.isspace()),
    )


@st.composite
def bad_resolutions(draw: st.DrawFn) -> Bad:
    base: dict[str, Any] = {"action": draw(st.sampled_from([a.value for a in ResolutionAction]))}
    kind = draw(st.sampled_from(["action", "missing", "note", "operator", "unknown"]))
    if kind == "action":
        actions = {a.value for a in ResolutionAction}
        value = draw(
            st.one_of(unknown_names.filter(lambda s: s not in actions), wrong_types_for_str)
        )
        return Bad(base | {"action": value}, "action")
    if kind == "missing":
        return Bad({"note": draw(st.text(max_size=20))}, "action")
    if kind == "note":
        return Bad(base | {"note": draw(st.one_of(too_long_text(500), st.integers()))}, "note")
    if kind == "operator":
        value = draw(st.one_of(st.text(min_size=65, max_size=300), st.integers(), st.booleans()))
        return Bad(base | {"operator": value}, "operator")
    name = draw(unknown_fields.filter(lambda s: s not in ("action", "note", "operator")))
    return Bad(base | {name: "x"}, name)


@st.composite
def bad_cancels(draw: st.DrawFn) -> Bad:
    if draw(st.booleans()):
        value = draw(st.one_of(too_long_text(500), st.integers(), st.none(), st.lists(st.text())))
        return Bad({"reason": value}, "reason")
    name = draw(unknown_fields.filter(lambda s: s != "reason"))
    return Bad({name: draw(st.text(max_size=5))}, name)


# ------------------------------------------------------------------------------ the refusals
def named_field(error: Exception) -> str:
    """The field a refusal names: pydantic's location, or the `InvalidOrder` it wraps."""
    if isinstance(error, InvalidOrder):
        return error.field
    assert isinstance(error, ValidationError), f"not a validation refusal: {error!r}"
    first = error.errors()[0]
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, InvalidOrder):
        return cause.field
    return str(first["loc"][0]) if first["loc"] else ""
