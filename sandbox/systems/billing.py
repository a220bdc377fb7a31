"""Billing: an account's plan, add-ons and quota rules are a fold over its live orders on top of
its base plan (`sandbox.systems.fold`); an order's update adds its part (idempotent on the order
id), its revert removes it, and each change bumps the account's `version`.

Concurrency (issue 11): an update may carry the `account_version` it was decided on (compare and
set) or the `fencing_token` of the lease it holds (never lower than one already seen); a stale
one is refused with `409 StaleAccountVersion` and changes nothing. A reverted order is marked
(`sandbox.systems.marks`): its late update is refused with `409 OrderCompensated`. Both fields are
optional: an update without them is applied as before, and the fold keeps it from undoing or
downgrading what another order added.
"""

import json
import sqlite3
from typing import NamedTuple

from domain.effects import Effect
from domain.errors import ErrorType
from sandbox import scenarios
from sandbox.errors import BusinessRefusal, NotFound, Unprocessable
from sandbox.schemas import (
    BillingAccountOut,
    BillingPlanIn,
    BillingPlanOut,
    CompensationOut,
    OrderRef,
)
from sandbox.store import to_iso
from sandbox.systems import marks
from sandbox.systems.call import Call, check_features, check_plan
from sandbox.systems.fold import fold, part
from sandbox.systems.orders import ensure_account

SYSTEM = "billing"


class _Folded(NamedTuple):
    plan: str
    features: list[str]
    quota_rules: str


def _account(call: Call, account_id: str) -> sqlite3.Row:
    row = call.tx.one("SELECT * FROM accounts WHERE account_id = ?", account_id)
    if row is None:
        raise NotFound(f"billing has no account {account_id}", field="account_id")
    return row


def _base(account: sqlite3.Row) -> str:
    # NULL until the first billing change: until then the account's plan is its base plan.
    base: str = account["base_plan"] or account["plan"]
    return base


def _refold(call: Call, account: sqlite3.Row) -> _Folded:
    """Recompute the account from its live orders and store it, one version up."""
    live = call.tx.all(
        "SELECT plan, features FROM billing_updates "
        "WHERE account_id = ? AND reverted_at IS NULL ORDER BY rowid",
        account["account_id"],
    )
    base = _base(account)
    folded = fold(call.catalog, (part(r["plan"], r["features"]) for r in live), base)
    plan = folded.plan or base
    rules = scenarios.quota_rules(plan, folded.features, call.catalog)
    call.tx.execute(
        "UPDATE accounts SET plan = ?, features = ?, quota_rules = ?, base_plan = ?, "
        "version = version + 1 WHERE account_id = ?",
        plan,
        json.dumps(folded.features),
        rules,
        base,
        account["account_id"],
    )
    return _Folded(plan, folded.features, rules)


def _check_fresh(account: sqlite3.Row, body: BillingPlanIn) -> None:
    """Refuse an update decided on an account state that has changed since."""
    if body.account_version is not None and body.account_version != account["version"]:
        raise BusinessRefusal(
            ErrorType.STALE_ACCOUNT_VERSION,
            f"account {account['account_id']} is at version {account['version']} (plan "
            f"{account['plan']!r}), but order {body.order_id} was decided on version "
            f"{body.account_version}: re-read the account and decide again",
            field="account_version",
        )
    if body.fencing_token is not None and body.fencing_token < account["fencing_token"]:
        raise BusinessRefusal(
            ErrorType.STALE_ACCOUNT_VERSION,
            f"account {account['account_id']} has seen fencing token "
            f"{account['fencing_token']}; order {body.order_id} carries {body.fencing_token}, "
            "a lease that has since been given to another order",
            field="fencing_token",
        )


def update_billing_plan(call: Call, account_id: str, body: BillingPlanIn) -> BillingPlanOut:
    check_plan(call.catalog, body.from_plan, "from_plan")
    check_plan(call.catalog, body.to_plan, "to_plan")
    check_features(call.catalog, body.features)
    marks.refuse_if_marked(call, SYSTEM, body.order_id, "a billing update")
    done = call.tx.one("SELECT * FROM billing_updates WHERE order_id = ?", body.order_id)
    if done is not None:
        if done["account_id"] != account_id:
            raise Unprocessable(
                f"order {body.order_id} already updated the billing of another account",
                field="account_id",
            )
        # Idempotent on the order (before the freshness check: a retry of an update that was
        # applied carries the version it was decided on, which its own update made stale).
        return BillingPlanOut(
            previous_plan=done["previous_plan"],
            plan=done["account_plan"],
            quota_rules=done["quota_rules"],
        )
    account = ensure_account(call, account_id, body.from_plan)
    _check_fresh(account, body)
    if body.fencing_token is not None:
        call.tx.execute(
            "UPDATE accounts SET fencing_token = ? WHERE account_id = ?",
            body.fencing_token,
            account_id,
        )
    call.tx.insert(
        "billing_updates",
        {
            "order_id": body.order_id,
            "account_id": account_id,
            "plan": body.to_plan,
            "features": json.dumps(body.features),
            "previous_plan": account["plan"],
            "account_plan": "",  # filled in below, once folded
            "quota_rules": "",
            "updated_at": to_iso(call.now),
            "reverted_at": None,
        },
    )
    after = _refold(call, account)
    call.tx.execute(
        "UPDATE billing_updates SET account_plan = ?, quota_rules = ? WHERE order_id = ?",
        after.plan,
        after.quota_rules,
        body.order_id,
    )
    call.effect(
        Effect.UPDATE_BILLING_PLAN,
        body.order_id,
        account_id=account_id,
        base_plan=_base(account),
        previous_plan=account["plan"],
        order_plan=body.to_plan,
        order_features=body.features,
        plan=after.plan,
        features=after.features,
        quota_rules=after.quota_rules,
        version=account["version"] + 1,
    )
    return BillingPlanOut(
        previous_plan=account["plan"], plan=after.plan, quota_rules=after.quota_rules
    )


def revert_billing_plan(call: Call, account_id: str, body: OrderRef) -> CompensationOut:
    """Take the order's part out of the fold; other orders' parts stay, whatever their order."""
    # Marked even when there is nothing to undo: the update may still be on its way.
    marks.mark(call, SYSTEM, body.order_id, account_id)
    done = call.tx.one(
        "SELECT * FROM billing_updates WHERE order_id = ? AND account_id = ?",
        body.order_id,
        account_id,
    )
    if done is None:
        return CompensationOut(
            applied=False, detail=f"order {body.order_id} never updated billing of {account_id}"
        )
    if done["reverted_at"] is not None:
        return CompensationOut(applied=False, detail=f"already reverted at {done['reverted_at']}")
    call.tx.execute(
        "UPDATE billing_updates SET reverted_at = ? WHERE order_id = ?",
        to_iso(call.now),
        body.order_id,
    )
    account = _account(call, account_id)
    after = _refold(call, account)
    call.effect(
        Effect.REVERT_BILLING_PLAN,
        body.order_id,
        account_id=account_id,
        restored_plan=after.plan,
        reverted_plan=done["plan"],
        plan=after.plan,
        features=after.features,
        version=account["version"] + 1,
    )
    kept = f" + {', '.join(after.features)}" if after.features else ""
    return CompensationOut(
        applied=True,
        detail=f"removed order {body.order_id}'s {done['plan']}: the account is on "
        f"{after.plan}{kept} (the other live orders and the base plan)",
    )


def read_account(call: Call, account_id: str) -> BillingAccountOut:
    account = _account(call, account_id)
    return BillingAccountOut(
        account_id=account_id,
        plan=account["plan"],
        features=json.loads(account["features"]),
        quota_rules=account["quota_rules"],
        version=account["version"],
    )
