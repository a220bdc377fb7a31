"""Billing: switch an account's plan and quota rules for an order (idempotent on the order id),
and revert exactly that switch as the compensation."""

from domain.effects import Effect
from sandbox import scenarios
from sandbox.errors import Unprocessable
from sandbox.schemas import BillingPlanIn, BillingPlanOut, CompensationOut, OrderRef
from sandbox.store import to_iso
from sandbox.systems.call import Call, check_features, check_plan
from sandbox.systems.orders import ensure_account


def update_billing_plan(call: Call, account_id: str, body: BillingPlanIn) -> BillingPlanOut:
    check_plan(call.catalog, body.from_plan, "from_plan")
    check_plan(call.catalog, body.to_plan, "to_plan")
    check_features(call.catalog, body.features)
    done = call.tx.one(
        "SELECT * FROM billing_updates WHERE order_id = ? AND reverted_at IS NULL", body.order_id
    )
    if done is not None:
        if done["account_id"] != account_id:
            raise Unprocessable(
                f"order {body.order_id} already updated the billing of another account",
                field="account_id",
            )
        return BillingPlanOut(
            previous_plan=done["previous_plan"], plan=done["plan"], quota_rules=done["quota_rules"]
        )
    account = ensure_account(call, account_id, body.from_plan)
    rules = scenarios.quota_rules(body.to_plan, body.features, call.catalog)
    call.tx.execute(
        "UPDATE accounts SET plan = ?, quota_rules = ? WHERE account_id = ?",
        body.to_plan,
        rules,
        account_id,
    )
    # REPLACE: an order whose update was reverted may update again (a deliberate re-run).
    call.tx.insert(
        "billing_updates",
        {
            "order_id": body.order_id,
            "account_id": account_id,
            "previous_plan": account["plan"],
            "previous_quota_rules": account["quota_rules"],
            "plan": body.to_plan,
            "quota_rules": rules,
            "updated_at": to_iso(call.now),
            "reverted_at": None,
        },
        replace=True,
    )
    call.effect(
        Effect.UPDATE_BILLING_PLAN,
        body.order_id,
        account_id=account_id,
        previous_plan=account["plan"],
        plan=body.to_plan,
        quota_rules=rules,
    )
    return BillingPlanOut(previous_plan=account["plan"], plan=body.to_plan, quota_rules=rules)


def revert_billing_plan(call: Call, account_id: str, body: OrderRef) -> CompensationOut:
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
        "UPDATE accounts SET plan = ?, quota_rules = ? WHERE account_id = ?",
        done["previous_plan"],
        done["previous_quota_rules"],
        account_id,
    )
    call.tx.execute(
        "UPDATE billing_updates SET reverted_at = ? WHERE order_id = ?",
        to_iso(call.now),
        body.order_id,
    )
    call.effect(
        Effect.REVERT_BILLING_PLAN,
        body.order_id,
        account_id=account_id,
        restored_plan=done["previous_plan"],
        reverted_plan=done["plan"],
    )
    return CompensationOut(
        applied=True, detail=f"restored plan {done['previous_plan']} (was {done['plan']})"
    )
