"""The catalog: prices, upgrade checks, change kinds, media profiles, regions; loaded from JSON."""

import json
from decimal import Decimal
from importlib import resources
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog import Catalog, ChangeKind, load_catalog
from domain.errors import InvalidOrder

CATALOG = load_catalog()
PLANS_BY_TIER = sorted(CATALOG.plans, key=lambda name: CATALOG.plans[name].tier)
ADDONS = tuple(CATALOG.addons)


# --- prices -------------------------------------------------------------------------------------


def test_basic_to_premium_costs_the_plan_difference() -> None:
    price = CATALOG.price("basic", "premium", ())
    assert price == Decimal("600.00")
    assert str(price) == "600.00"  # always two decimals: it is compared with paid amounts


@pytest.mark.parametrize(
    ("from_plan", "to_plan", "features", "expected"),
    [
        ("pay_as_you_go", "basic", (), "99.00"),
        ("basic", "standard", (), "200.00"),
        ("standard", "enterprise", (), "1700.00"),
        ("pay_as_you_go", "enterprise", (), "1999.00"),
        ("basic", "premium", ("api.cloud_recording",), "799.00"),
        ("basic", "premium", ("api.cloud_recording", "api.traffic_boost"), "898.00"),
        ("standard", "premium", ("ai.conversational_multimodal",), "899.00"),
        ("basic", "premium", ("video.hd_720p", "video.uhd_4k"), "848.00"),
    ],
)
def test_price_is_plan_difference_plus_addons(
    from_plan: str, to_plan: str, features: tuple[str, ...], expected: str
) -> None:
    assert CATALOG.price(from_plan, to_plan, features) == Decimal(expected)


@pytest.mark.parametrize(
    ("feature", "expected"),
    [
        ("api.cloud_recording", "199.00"),
        ("api.traffic_boost", "99.00"),
        ("ai.conversational_multimodal", "499.00"),
        ("video.hd_720p", "49.00"),
        ("video.fhd_1080p", "99.00"),
        ("video.uhd_4k", "199.00"),
    ],
)
def test_same_tier_with_an_addon_is_an_upgrade_priced_at_the_addon(
    feature: str, expected: str
) -> None:
    CATALOG.check_upgrade("premium", "premium", (feature,))
    assert CATALOG.price("premium", "premium", (feature,)) == Decimal(expected)


def test_addon_order_does_not_change_the_price() -> None:
    forward = CATALOG.price("basic", "basic", ("video.hd_720p", "api.traffic_boost"))
    backward = CATALOG.price("basic", "basic", ("api.traffic_boost", "video.hd_720p"))
    assert forward == backward == Decimal("148.00")


@pytest.mark.parametrize("plan", ["pay_as_you_go", "basic", "premium", "enterprise"])
def test_same_tier_without_addons_is_refused(plan: str) -> None:
    with pytest.raises(InvalidOrder) as caught:
        CATALOG.price(plan, plan, ())
    assert caught.value.field == "to_plan"


@pytest.mark.parametrize(
    ("from_plan", "to_plan"),
    [("premium", "basic"), ("enterprise", "pay_as_you_go"), ("standard", "basic")],
)
def test_lower_tier_is_refused_naming_to_plan(from_plan: str, to_plan: str) -> None:
    with pytest.raises(InvalidOrder) as caught:
        CATALOG.check_upgrade(from_plan, to_plan, ())
    assert caught.value.field == "to_plan"
    assert "lower tier" in caught.value.message
    # Add-ons do not turn a downgrade into an upgrade.
    with pytest.raises(InvalidOrder) as caught:
        CATALOG.price(from_plan, to_plan, ("video.uhd_4k",))
    assert caught.value.field == "to_plan"


def test_invalid_order_is_a_value_error_carrying_field_and_message() -> None:
    with pytest.raises(ValueError, match=r"^to_plan: ") as caught:
        CATALOG.price("premium", "basic", ())
    assert isinstance(caught.value, InvalidOrder)


def test_unknown_source_plan_names_from_plan() -> None:
    with pytest.raises(InvalidOrder) as caught:
        CATALOG.price("gold", "premium", ())
    assert caught.value.field == "from_plan"
    assert "'gold'" in caught.value.message
    assert "premium" in caught.value.message  # lists the known plans


def test_unknown_target_plan_names_to_plan() -> None:
    with pytest.raises(InvalidOrder) as caught:
        CATALOG.price("basic", "platinum", ())
    assert caught.value.field == "to_plan"
    assert "'platinum'" in caught.value.message


def test_unknown_feature_names_features() -> None:
    with pytest.raises(InvalidOrder) as caught:
        CATALOG.price("basic", "premium", ("video.hd_720p", "video.8k"))
    assert caught.value.field == "features"
    assert "'video.8k'" in caught.value.message
    assert "video.uhd_4k" in caught.value.message  # lists the known features


def test_unknown_feature_is_refused_even_on_an_otherwise_valid_same_tier_order() -> None:
    with pytest.raises(InvalidOrder) as caught:
        CATALOG.check_upgrade("basic", "basic", ("nope",))
    assert caught.value.field == "features"


# --- change kinds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("from_plan", "to_plan", "features", "expected"),
    [
        ("basic", "premium", (), [ChangeKind.PLAN]),
        ("basic", "basic", ("api.cloud_recording",), [ChangeKind.ADVANCED_PERMISSION]),
        (
            "basic",
            "basic",
            ("api.cloud_recording", "api.traffic_boost"),
            [ChangeKind.ADVANCED_PERMISSION],
        ),
        ("basic", "basic", ("ai.conversational_multimodal",), [ChangeKind.CAPABILITY]),
        ("basic", "basic", ("video.fhd_1080p",), [ChangeKind.MEDIA_QUALITY]),
        (
            "basic",
            "premium",
            ("video.hd_720p",),
            [ChangeKind.PLAN, ChangeKind.MEDIA_QUALITY],
        ),
        (
            "standard",
            "enterprise",
            ("video.uhd_4k", "ai.conversational_multimodal", "api.traffic_boost"),
            [
                ChangeKind.PLAN,
                ChangeKind.ADVANCED_PERMISSION,
                ChangeKind.CAPABILITY,
                ChangeKind.MEDIA_QUALITY,
            ],
        ),
        (
            "premium",
            "premium",
            ("video.hd_720p", "ai.conversational_multimodal"),
            [ChangeKind.CAPABILITY, ChangeKind.MEDIA_QUALITY],
        ),
    ],
)
def test_change_kinds_in_canonical_order(
    from_plan: str, to_plan: str, features: tuple[str, ...], expected: list[ChangeKind]
) -> None:
    assert CATALOG.change_kinds(from_plan, to_plan, features) == expected


def test_change_kind_string_values_are_the_design_names() -> None:
    assert [k.value for k in ChangeKind] == [
        "plan",
        "advanced_permission",
        "capability",
        "media_quality",
    ]


def test_addon_kinds_match_the_design() -> None:
    assert {name: a.kind for name, a in CATALOG.addons.items()} == {
        "api.cloud_recording": ChangeKind.ADVANCED_PERMISSION,
        "api.traffic_boost": ChangeKind.ADVANCED_PERMISSION,
        "ai.conversational_multimodal": ChangeKind.CAPABILITY,
        "video.hd_720p": ChangeKind.MEDIA_QUALITY,
        "video.fhd_1080p": ChangeKind.MEDIA_QUALITY,
        "video.uhd_4k": ChangeKind.MEDIA_QUALITY,
    }


# --- media profile ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        ((), None),
        (("api.cloud_recording", "ai.conversational_multimodal"), None),
        (("video.hd_720p",), "hd_720p"),
        (("video.fhd_1080p",), "fhd_1080p"),
        (("video.uhd_4k",), "uhd_4k"),
        (("video.hd_720p", "video.fhd_1080p"), "fhd_1080p"),
        (("video.uhd_4k", "video.hd_720p"), "uhd_4k"),
        (("video.fhd_1080p", "api.traffic_boost", "video.uhd_4k", "video.hd_720p"), "uhd_4k"),
    ],
)
def test_media_profile_picks_the_highest(features: tuple[str, ...], expected: str | None) -> None:
    assert CATALOG.media_profile(features) == expected


def test_media_profile_does_not_depend_on_feature_order() -> None:
    media = ("video.hd_720p", "video.fhd_1080p", "video.uhd_4k")
    for n in range(1, len(media) + 1):
        for subset in combinations(media, n):
            assert CATALOG.media_profile(subset) == CATALOG.media_profile(subset[::-1])


# --- regions, plans, data file ------------------------------------------------------------------


def test_regions_are_the_eight_of_the_design_in_order() -> None:
    assert CATALOG.regions == (
        "cn-north",
        "cn-east",
        "cn-south",
        "ap-southeast",
        "ap-northeast",
        "eu-west",
        "us-east",
        "us-west",
    )


def test_plans_tiers_and_prices_match_the_design() -> None:
    assert {n: (p.tier, p.monthly_price) for n, p in CATALOG.plans.items()} == {
        "pay_as_you_go": (0, Decimal("0")),
        "basic": (1, Decimal("99")),
        "standard": (2, Decimal("299")),
        "premium": (3, Decimal("699")),
        "enterprise": (4, Decimal("1999")),
    }
    assert CATALOG.currency == "CNY"


def test_catalog_is_loaded_from_the_json_data_file() -> None:
    raw = json.loads(resources.files("domain").joinpath("catalog.json").read_text("utf-8"))
    assert CATALOG.currency == raw["currency"]
    assert list(CATALOG.plans) == list(raw["plans"])
    assert list(CATALOG.addons) == list(raw["addons"])
    assert list(CATALOG.regions) == raw["regions"]
    for name, plan in raw["plans"].items():
        assert CATALOG.plans[name].name == name
        assert CATALOG.plans[name].tier == plan["tier"]
        assert CATALOG.plans[name].monthly_price == Decimal(plan["monthly_price"])
    for name, addon in raw["addons"].items():
        assert CATALOG.addons[name].name == name
        assert CATALOG.addons[name].kind == addon["kind"]
        assert CATALOG.addons[name].monthly_price == Decimal(addon["monthly_price"])
        assert CATALOG.addons[name].media_profile == addon.get("media_profile")


def test_catalog_is_loaded_once_and_frozen() -> None:
    assert load_catalog() is load_catalog()
    assert isinstance(CATALOG, Catalog)
    with pytest.raises(ValueError, match="frozen"):
        CATALOG.currency = "USD"  # type: ignore[misc]
    with pytest.raises(ValueError, match="frozen"):
        CATALOG.plans["basic"].monthly_price = Decimal("1")  # type: ignore[misc]


def test_prices_are_exact_decimals() -> None:
    for plan in CATALOG.plans.values():
        assert isinstance(plan.monthly_price, Decimal)
    for addon in CATALOG.addons.values():
        assert isinstance(addon.monthly_price, Decimal)


# --- property -----------------------------------------------------------------------------------


@st.composite
def _plan_pair_and_addons(draw: st.DrawFn) -> tuple[str, str, tuple[str, ...]]:
    i = draw(st.integers(0, len(PLANS_BY_TIER) - 1))
    j = draw(st.integers(i, len(PLANS_BY_TIER) - 1))
    features = draw(st.lists(st.sampled_from(ADDONS), unique=True, max_size=len(ADDONS)))
    return PLANS_BY_TIER[i], PLANS_BY_TIER[j], tuple(features)


@given(_plan_pair_and_addons())
def test_price_property(case: tuple[str, str, tuple[str, ...]]) -> None:
    from_plan, to_plan, features = case
    source, target = CATALOG.plans[from_plan], CATALOG.plans[to_plan]
    if source.tier == target.tier and not features:
        with pytest.raises(InvalidOrder):
            CATALOG.price(from_plan, to_plan, features)
        return
    expected = (target.monthly_price - source.monthly_price) + sum(
        (CATALOG.addons[f].monthly_price for f in features), Decimal("0")
    )
    price = CATALOG.price(from_plan, to_plan, features)
    assert price == expected
    assert price > 0
    assert price.as_tuple().exponent == -2
    assert CATALOG.change_kinds(from_plan, to_plan, features)  # an upgrade always changes something
