"""The embedded default's static parts, without starting anything: the demo batch and the dev-server
command line."""

from decimal import Decimal
from pathlib import Path

import pytest

from devstack.demo import DEMO_CANCELLED, load_demo_orders
from domain.catalog import ChangeKind, load_catalog
from domain.models import PaymentMethod, UpgradeOrder
from service.dev_server import dev_server_command
from workflows.search_attributes import REGISTRATION

# Scenario tokens of the sandbox (docs/platform-api.md) and the order field each one is read from.
TOKEN_FIELDS = {
    "pay-fail": "transaction_id",
    "pay-review": "transaction_id",
    "pay-never": "transaction_id",
    "pay-short": "transaction_id",
    "pay-over": "transaction_id",
    "acct-stale": "account_id",
    "nocap": "app_id",
    "lag": "app_id",
    "flaky": "app_id",
}
SANDBOX_FIELDS = ("account_id", "app_id", "transaction_id")


@pytest.fixture(scope="module")
def orders() -> list[UpgradeOrder]:
    return [UpgradeOrder.model_validate(raw) for raw in load_demo_orders()]


def tokens_of(order: UpgradeOrder) -> set[str]:
    return {
        token
        for token in TOKEN_FIELDS
        for field in SANDBOX_FIELDS
        if token in getattr(order, field).lower()
    }


def test_demo_orders_are_valid_and_distinct(orders: list[UpgradeOrder]) -> None:
    assert len(orders) >= 6
    for field in ("order_id", "account_id", "app_id", "transaction_id"):
        values = [getattr(order, field) for order in orders]
        assert len(set(values)) == len(values), f"{field} repeats across the demo batch"
    assert all(order.order_id.startswith("DEMO-") for order in orders)
    assert all(order.currency == "CNY" for order in orders)


def test_demo_amounts_are_the_catalog_price() -> None:
    catalog = load_catalog()
    for raw in load_demo_orders():
        price = catalog.price(raw["from_plan"], raw["to_plan"], tuple(raw["features"]))
        assert Decimal(raw["amount"]) == price, raw["order_id"]
        assert raw["amount"] == f"{price:.2f}", "amounts are strings with two decimals"


def test_demo_batch_covers_every_payment_method(orders: list[UpgradeOrder]) -> None:
    assert {order.payment_method for order in orders} == set(PaymentMethod)


def test_demo_batch_has_one_pure_order_per_change_kind(orders: list[UpgradeOrder]) -> None:
    plain = [o for o in orders if not tokens_of(o)]
    single_kinds = {o.change_kinds[0] for o in plain if len(o.change_kinds) == 1}
    assert single_kinds == set(ChangeKind)


def test_demo_batch_has_an_escalating_and_a_compensating_order(
    orders: list[UpgradeOrder],
) -> None:
    by_token = {
        token: [o.order_id for o in orders if token in tokens_of(o)] for token in TOKEN_FIELDS
    }
    assert by_token["lag"], "one order escalates at the activation SLA"
    assert by_token["nocap"], "one order waits for an operator (capacity refused)"
    # The stack cancels this lagging order while it propagates: compensations unwind.
    assert DEMO_CANCELLED in by_token["lag"]
    for order in orders:
        for token in tokens_of(order):
            assert token in getattr(order, TOKEN_FIELDS[token]).lower(), (
                f"{order.order_id}: token {token!r} outside the field the sandbox reads"
            )
    # Escalation of the lagging order must come from propagation, not from a refused capacity.
    for lagging in (o for o in orders if "lag" in tokens_of(o)):
        assert tokens_of(lagging) == {"lag"}


def test_dev_server_registers_every_search_attribute() -> None:
    command = dev_server_command(Path("temporal"), Path(".data/temporal.db"), 7233, 8233)
    assert command[:3] == ["temporal", "server", "start-dev"]
    pairs = {command[i + 1] for i, arg in enumerate(command) if arg == "--search-attribute"}
    assert pairs == {f"{name}={kind}" for name, kind in REGISTRATION.items()}
    for flag, value in (
        ("--db-filename", ".data/temporal.db"),
        ("--ip", "127.0.0.1"),
        ("--port", "7233"),
        ("--ui-port", "8233"),
        ("--namespace", "default"),
    ):
        assert command[command.index(flag) + 1] == value
