"""Builders for valid domain inputs; tests override only the field they are about."""

from typing import Any

from domain.models import UpgradeOrder

VALID_ORDER: dict[str, Any] = {
    "order_id": "ORD-1",
    "account_id": "ACC-1",
    "app_id": "APP-1",
    "from_plan": "basic",
    "to_plan": "premium",
    "payment_method": "alipay",
    "transaction_id": "TX-1",
    "amount": "600.00",
}


def order_data(**overrides: Any) -> dict[str, Any]:
    return {**VALID_ORDER, **overrides}


def make_order(**overrides: Any) -> UpgradeOrder:
    return UpgradeOrder(**order_data(**overrides))
