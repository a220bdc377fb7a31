"""Property-based bad input for the public messages: every invalid order, notice, resolution and
cancel request is refused with a pydantic `ValidationError` (or `InvalidOrder`) naming the
offending field, never another exception; every valid order validates and round-trips."""

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from domain.errors import InvalidOrder
from domain.models import CancelRequest, PaymentNotice, Resolution, UpgradeOrder
from tests.properties.counts import tally
from tests.properties.strategies import (
    Bad,
    amounts,
    bad_cancels,
    bad_notices,
    bad_orders,
    bad_resolutions,
    identifiers,
    named_field,
    valid_notices,
    valid_orders,
)


def refusal_of(model: type[BaseModel], data: dict[str, Any]) -> Exception:
    """The refusal of `data`; anything but a validation refusal (or no refusal) fails."""
    try:
        model.model_validate(data)
    except (ValidationError, InvalidOrder) as refused:
        return refused
    raise AssertionError(f"accepted invalid {model.__name__}: {data!r}")


def check_refused(model: type[BaseModel], bad: Bad) -> None:
    refused = refusal_of(model, bad.data)
    assert named_field(refused) == bad.field, (str(refused)[:300], bad.field)
    # The message a person reads names the field too.
    if isinstance(refused, ValidationError):
        assert bad.field in str(refused)


@given(valid_orders())
def test_valid_orders_validate_and_round_trip(data: dict[str, Any]) -> None:
    tally("models: valid orders")
    order = UpgradeOrder.model_validate(data)
    assert UpgradeOrder.model_validate_json(order.model_dump_json()) == order
    assert order.workflow_id == f"upgrade-{order.order_id}"


@given(bad_orders())
def test_bad_orders_are_refused_naming_the_field(bad: Bad) -> None:
    tally("models: bad orders")
    check_refused(UpgradeOrder, bad)


@given(valid_notices())
def test_valid_notices_validate(data: dict[str, Any]) -> None:
    tally("models: valid notices")
    assert PaymentNotice.model_validate(data).order_id == data["order_id"]


@given(bad_notices())
def test_bad_notices_are_refused_naming_the_field(bad: Bad) -> None:
    tally("models: bad notices")
    check_refused(PaymentNotice, bad)


@given(valid_orders(), st.data())
def test_a_notice_that_disagrees_with_its_order_names_the_field(
    order_data: dict[str, Any], data: st.DataObject
) -> None:
    tally("models: mismatched notices")
    order = UpgradeOrder.model_validate(order_data)
    matching = {
        "order_id": order.order_id,
        "transaction_id": order.transaction_id,
        "amount": order.amount,
        "currency": order.currency,
    }
    assert PaymentNotice.model_validate(matching).mismatch_with(order) is None
    field = data.draw(st.sampled_from(sorted(matching)))
    other = {
        "order_id": identifiers,
        "transaction_id": identifiers,
        "amount": amounts,
        "currency": st.sampled_from(["USD", "EUR", "HKD", "JPY"]),
    }[field]
    value = data.draw(other.filter(lambda v: v != matching[field]))
    mismatch = PaymentNotice.model_validate(matching | {field: value}).mismatch_with(order)
    assert isinstance(mismatch, InvalidOrder) and mismatch.field == field


@given(bad_resolutions())
def test_bad_resolutions_are_refused_naming_the_field(bad: Bad) -> None:
    tally("models: bad resolutions")
    check_refused(Resolution, bad)


@given(bad_cancels())
def test_bad_cancel_requests_are_refused_naming_the_field(bad: Bad) -> None:
    tally("models: bad cancel requests")
    check_refused(CancelRequest, bad)
