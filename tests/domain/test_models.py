"""The public messages: validation names the offending field; models are frozen and round-trip.

Over ~300 lines on purpose: one short test per field rule of `domain.models`, in its order.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from domain.catalog import ChangeKind
from domain.errors import InvalidOrder
from domain.models import (
    CancelRequest,
    MessageAck,
    PaymentMethod,
    PaymentNotice,
    PaymentStatus,
    Resolution,
    ResolutionAction,
    UpgradeOrder,
    catalog_price,
    workflow_id_for,
)
from domain.upgrade_input import UpgradeInput, build_upgrade_input
from tests.support.factories import make_order, order_data

NOW = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)


def field_error_locs(exc: ValidationError) -> set[tuple[int | str, ...]]:
    return {tuple(e["loc"]) for e in exc.errors()}


def invalid_order_of(exc: ValidationError) -> InvalidOrder:
    error = exc.errors()[0]["ctx"]["error"]
    assert isinstance(error, InvalidOrder)
    return error


# --- a valid order ------------------------------------------------------------------------------


def test_valid_order_parses_with_defaults() -> None:
    order = make_order()
    assert order.currency == "CNY"
    assert order.features == ()
    assert order.amount == Decimal("600.00")
    assert order.payment_method is PaymentMethod.ALIPAY
    assert order.change_kinds == [ChangeKind.PLAN]


def test_identifiers_are_stripped() -> None:
    assert make_order(order_id="  ORD-7 ").order_id == "ORD-7"


@pytest.mark.parametrize("value", ["A", "ord_1.2:3-x", "X" * 64, "0abc"])
def test_valid_identifiers(value: str) -> None:
    assert make_order(order_id=value).order_id == value


def test_features_from_a_json_list_become_a_tuple() -> None:
    raw = '{"order_id":"ORD-1","account_id":"A","app_id":"B","from_plan":"basic",'
    raw += '"to_plan":"basic","features":["video.hd_720p"],"payment_method":"wechat_pay",'
    raw += '"transaction_id":"T","amount":"49.00"}'
    order = UpgradeOrder.model_validate_json(raw)
    assert order.features == ("video.hd_720p",)
    assert order.change_kinds == [ChangeKind.MEDIA_QUALITY]


# --- field-level refusals -----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["order_id", "account_id", "app_id", "transaction_id"])
@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "X" * 65,
        "ORD 1",
        "ORD/1",
        "ORD?1",
        "-ORD",
        ".ORD",
        "订单1",
        "ORD\n1",
        "ORD%201",
    ],
)
def test_bad_identifiers_are_refused_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        UpgradeOrder(**order_data(**{field: value}))
    assert field_error_locs(caught.value) == {(field,)}


@pytest.mark.parametrize(
    ("amount", "error_type"),
    [
        ("-1.00", "greater_than"),
        ("0", "greater_than"),
        ("0.00", "greater_than"),
        ("600.001", "decimal_max_places"),
        ("0.001", "decimal_max_places"),
        ("10000000000.00", "decimal_whole_digits"),
        ("NaN", "finite_number"),
        ("Infinity", "finite_number"),
        ("six hundred", "decimal_parsing"),
    ],
)
def test_bad_amounts_are_refused_naming_amount(amount: str, error_type: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make_order(amount=amount)
    errors = caught.value.errors()
    assert [tuple(e["loc"]) for e in errors] == [("amount",)]
    assert errors[0]["type"] == error_type


@pytest.mark.parametrize("amount", ["0.01", "600", "600.1", "600.10", 600, "9999999999.99"])
def test_good_amounts(amount: object) -> None:
    assert make_order(amount=amount).amount == Decimal(str(amount))


@pytest.mark.parametrize("currency", ["cny", "CN", "CNYY", "C1Y", "", "RMB "])
def test_bad_currency_is_refused(currency: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make_order(currency=currency)
    assert field_error_locs(caught.value) == {("currency",)}


@pytest.mark.parametrize("method", ["paypal", "ALIPAY", "", "bank card"])
def test_unknown_payment_method_is_refused(method: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make_order(payment_method=method)
    assert field_error_locs(caught.value) == {("payment_method",)}


def test_duplicate_features_are_refused_naming_features() -> None:
    with pytest.raises(ValidationError) as caught:
        make_order(features=("video.hd_720p", "api.traffic_boost", "video.hd_720p"))
    assert field_error_locs(caught.value) == {("features",)}
    assert "video.hd_720p" in caught.value.errors()[0]["msg"]


def test_extra_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        UpgradeOrder(**order_data(discount="10%"))
    errors = caught.value.errors()
    assert [(e["type"], tuple(e["loc"])) for e in errors] == [("extra_forbidden", ("discount",))]


@pytest.mark.parametrize(
    "missing", ["order_id", "account_id", "app_id", "from_plan", "to_plan", "amount"]
)
def test_missing_required_field_is_named(missing: str) -> None:
    data = order_data()
    del data[missing]
    with pytest.raises(ValidationError) as caught:
        UpgradeOrder(**data)
    assert ("missing", (missing,)) in {(e["type"], tuple(e["loc"])) for e in caught.value.errors()}


# --- model-level refusals (catalog) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"from_plan": "premium", "to_plan": "basic"}, "to_plan"),  # downgrade
        ({"from_plan": "premium", "to_plan": "premium"}, "to_plan"),  # nothing changes
        ({"from_plan": "gold"}, "from_plan"),
        ({"to_plan": "platinum"}, "to_plan"),
        ({"features": ("video.8k",)}, "features"),
    ],
)
def test_catalog_refusals_carry_an_invalid_order_naming_the_field(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make_order(**overrides)
    assert invalid_order_of(caught.value).field == field
    assert caught.value.errors()[0]["msg"].startswith(f"Value error, {field}: ")


def test_downgrade_is_refused_even_with_addons() -> None:
    with pytest.raises(ValidationError) as caught:
        make_order(from_plan="enterprise", to_plan="standard", features=("video.uhd_4k",))
    assert invalid_order_of(caught.value).field == "to_plan"


def test_same_tier_with_addons_is_a_valid_order() -> None:
    order = make_order(to_plan="basic", features=("api.cloud_recording",), amount="199.00")
    assert order.change_kinds == [ChangeKind.ADVANCED_PERMISSION]


# --- frozen -------------------------------------------------------------------------------------


def test_order_is_frozen() -> None:
    order = make_order()
    with pytest.raises(ValidationError):
        order.amount = Decimal("1.00")  # type: ignore[misc]
    assert hash(order) == hash(make_order())


def test_messages_are_frozen() -> None:
    notice = PaymentNotice(order_id="ORD-1", transaction_id="TX-1", amount=Decimal("600.00"))
    with pytest.raises(ValidationError):
        notice.amount = Decimal("1.00")  # type: ignore[misc]
    resolution = Resolution(action="approve")
    with pytest.raises(ValidationError):
        resolution.action = ResolutionAction.REJECT  # type: ignore[misc]
    with pytest.raises(ValidationError):
        CancelRequest().reason = "x"  # type: ignore[misc]


# --- derived values -----------------------------------------------------------------------------


def test_summary() -> None:
    assert make_order().summary == "ORD-1: basic → premium via alipay"


def test_summary_with_features() -> None:
    order = make_order(
        payment_method="corporate_transfer", features=("video.hd_720p", "api.traffic_boost")
    )
    assert order.summary == (
        "ORD-1: basic → premium + video.hd_720p, api.traffic_boost via corporate_transfer"
    )


def test_workflow_id() -> None:
    assert make_order().workflow_id == "upgrade-ORD-1"
    assert workflow_id_for("X.9") == "upgrade-X.9"


def test_catalog_price_helper() -> None:
    assert catalog_price("basic", "premium", ()) == Decimal("600.00")


# --- PaymentNotice ------------------------------------------------------------------------------


def notice(**overrides: Any) -> PaymentNotice:
    data: dict[str, Any] = {"order_id": "ORD-1", "transaction_id": "TX-1", "amount": "600.00"}
    return PaymentNotice(**{**data, **overrides})


def test_matching_notice_has_no_mismatch() -> None:
    assert notice().mismatch_with(make_order()) is None
    assert notice(amount="600").mismatch_with(make_order()) is None  # same value, other scale
    assert notice().status is PaymentStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"order_id": "ORD-2"}, "order_id"),
        ({"transaction_id": "TX-2"}, "transaction_id"),
        ({"currency": "USD"}, "currency"),
        ({"amount": "599.00"}, "amount"),
        ({"amount": "600.01"}, "amount"),
    ],
)
def test_mismatch_names_the_field(overrides: dict[str, Any], field: str) -> None:
    mismatch = notice(**overrides).mismatch_with(make_order())
    assert isinstance(mismatch, InvalidOrder)
    assert mismatch.field == field
    assert str(mismatch).startswith(f"{field}: ")


def test_mismatch_reports_the_first_field_in_order() -> None:
    mismatch = notice(order_id="ORD-2", amount="1.00").mismatch_with(make_order())
    assert mismatch is not None
    assert mismatch.field == "order_id"


@pytest.mark.parametrize("status", ["succeeded", "failed", "under_review"])
def test_notice_statuses(status: str) -> None:
    assert notice(status=status).status == status


@pytest.mark.parametrize("status", ["pending", "paid", ""])
def test_notice_refuses_other_statuses(status: str) -> None:
    with pytest.raises(ValidationError) as caught:
        notice(status=status)
    assert field_error_locs(caught.value) == {("status",)}


def test_notice_refuses_extra_fields_and_bad_amounts() -> None:
    with pytest.raises(ValidationError):
        notice(paid_at="now")
    with pytest.raises(ValidationError) as caught:
        notice(amount="-5")
    assert field_error_locs(caught.value) == {("amount",)}


# --- Resolution, cancel, ack --------------------------------------------------------------------


def test_resolution_action_values() -> None:
    assert [a.value for a in ResolutionAction] == ["approve", "retry", "reject"]
    for action in ("approve", "retry", "reject"):
        assert Resolution(action=action).action == action


@pytest.mark.parametrize("action", ["escalate", "APPROVE", ""])
def test_resolution_refuses_unknown_actions(action: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Resolution(action=action)
    assert field_error_locs(caught.value) == {("action",)}


def test_resolution_bounds_note_and_operator() -> None:
    assert Resolution(action="reject", note="  bad  ").note == "bad"
    with pytest.raises(ValidationError) as caught:
        Resolution(action="reject", note="x" * 501)
    assert field_error_locs(caught.value) == {("note",)}
    with pytest.raises(ValidationError) as caught:
        Resolution(action="reject", operator="o" * 65)
    assert field_error_locs(caught.value) == {("operator",)}


def test_cancel_request_default_reason() -> None:
    assert CancelRequest().reason == "cancelled on request"


def test_message_ack_result_values() -> None:
    assert MessageAck(result="duplicate", stage="reconciling").detail == ""
    with pytest.raises(ValidationError):
        MessageAck(result="maybe", stage="reconciling")


# --- UpgradeInput -------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1, 60, 3600])
@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {
            "payment_method": "corporate_transfer",
            "features": ("ai.conversational_multimodal", "video.fhd_1080p", "video.hd_720p"),
            "amount": "1248.00",
        },
    ],
)
def test_upgrade_input_round_trips_through_json(scale: float, overrides: dict[str, Any]) -> None:
    built = build_upgrade_input(make_order(**overrides), NOW, time_scale=scale)
    restored = UpgradeInput.model_validate_json(built.model_dump_json())
    assert restored == built
    assert restored.model_dump_json() == built.model_dump_json()


def test_upgrade_input_fixes_price_kinds_regions_and_profile() -> None:
    order = make_order(features=("ai.conversational_multimodal", "video.fhd_1080p"))
    built = build_upgrade_input(order, NOW, time_scale=60)
    assert built.order == order
    assert built.catalog_price == Decimal("1198.00")
    assert built.change_kinds == (
        ChangeKind.PLAN,
        ChangeKind.CAPABILITY,
        ChangeKind.MEDIA_QUALITY,
    )
    assert len(built.regions) == 8
    assert built.regions[0] == "cn-north"
    assert built.media_profile == "fhd_1080p"
    assert built.policy.time_scale == 60
    assert built.policy.allocation is not None
    assert built.carry is None


def test_upgrade_input_without_media_has_no_profile() -> None:
    assert build_upgrade_input(make_order(), NOW).media_profile is None
