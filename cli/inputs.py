"""The CLI's arguments turned into validated models, or `InvalidInput` naming the field.

Boundary: parsing and validation only (the models' own validators decide); exit code 2 is
`cli.main`'s.
"""

import argparse
import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from domain.errors import InvalidOrder
from domain.models import UpgradeOrder, catalog_price


class InvalidInput(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _from_validation(err: ValidationError) -> InvalidInput:
    first = err.errors()[0]
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, InvalidOrder):
        return InvalidInput(cause.field, cause.message)
    field = ".".join(str(p) for p in first["loc"]) or "input"
    return InvalidInput(_printable(field), first["msg"])


def _printable(text: str) -> str:
    """An unknown field's name comes from the input: escape what could break the one line."""
    return text if text.isprintable() else repr(text)[1:-1]


M = TypeVar("M", bound=BaseModel)


def build(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise _from_validation(err) from None
    except InvalidOrder as err:
        raise InvalidInput(err.field, err.message) from None


def order_from_args(args: argparse.Namespace) -> UpgradeOrder:
    flags = (
        "order_id",
        "account_id",
        "app_id",
        "from_plan",
        "to_plan",
        "payment_method",
        "transaction_id",
    )
    if args.order_file:
        if any(getattr(args, f) for f in flags) or args.feature or args.amount:
            raise InvalidInput(
                "order_file", "give either --order-file or the order flags, not both"
            )
        try:
            data = json.loads(Path(args.order_file).read_text("utf-8"))
        except OSError as err:
            raise InvalidInput(
                "order_file", f"cannot read {args.order_file}: {err.strerror}"
            ) from None
        except json.JSONDecodeError as err:
            raise InvalidInput(
                "order_file", f"not valid JSON: {err.msg} (line {err.lineno})"
            ) from None
        if not isinstance(data, dict):
            raise InvalidInput("order_file", "must hold one JSON object")
        return build(UpgradeOrder, data)
    missing = [f for f in flags if not getattr(args, f)]
    if missing:
        raise InvalidInput(missing[0], f"--{missing[0].replace('_', '-')} is required")
    features = tuple(args.feature or ())
    data = {f: getattr(args, f) for f in flags} | {"features": features, "currency": args.currency}
    if args.amount is None:
        try:
            data["amount"] = catalog_price(args.from_plan, args.to_plan, features)
        except InvalidOrder as err:
            raise InvalidInput(err.field, err.message) from None
    else:
        data["amount"] = args.amount
    return build(UpgradeOrder, data)
