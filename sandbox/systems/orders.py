"""Orders and accounts: accounts and apps created on first sight, and reconciliation (order,
account, app and transaction must agree; the transaction is then claimed by the order, unless
the custody of a held payment already refunded it). A check an operator approved past
(`overrides`: `from_plan`, `app_id`) is skipped; the claim never is."""

import sqlite3

from domain.effects import Effect
from domain.errors import ErrorType
from sandbox import scenarios
from sandbox.errors import BusinessRefusal
from sandbox.schemas import ReconcileIn, ReconcileOut
from sandbox.store import to_iso
from sandbox.systems.call import Call, check_plan


def ensure_account(call: Call, account_id: str, from_plan: str) -> sqlite3.Row:
    """The account; created on the order's `from_plan` (or a stale plan) when first seen."""
    row = call.tx.one("SELECT * FROM accounts WHERE account_id = ?", account_id)
    if row is not None:
        return row
    plan = scenarios.initial_account_plan(account_id, from_plan, call.catalog)
    call.tx.insert(
        "accounts",
        {
            "account_id": account_id,
            "plan": plan,
            "quota_rules": scenarios.quota_rules(plan, (), call.catalog),
            "created_at": to_iso(call.now),
        },
    )
    row = call.tx.one("SELECT * FROM accounts WHERE account_id = ?", account_id)
    if row is None:
        raise RuntimeError(f"account {account_id!r} vanished inside its own transaction")
    return row


def ensure_app(call: Call, app_id: str, account_id: str) -> str:
    """The account the app belongs to; a new app belongs to the account it is first seen with."""
    row = call.tx.one("SELECT account_id FROM apps WHERE app_id = ?", app_id)
    if row is not None:
        owner: str = row["account_id"]
        return owner
    call.tx.insert(
        "apps", {"app_id": app_id, "account_id": account_id, "created_at": to_iso(call.now)}
    )
    return account_id


def _changed_by(call: Call, account_id: str) -> str:
    """Which order last changed the account's plan, for a person reading the mismatch."""
    last = call.tx.one(
        "SELECT order_id, updated_at FROM billing_updates WHERE account_id = ? "
        "AND reverted_at IS NULL ORDER BY updated_at DESC, rowid DESC LIMIT 1",
        account_id,
    )
    if last is None:
        return " (no order of ours changed it: the account was on it already)"
    return f" (changed by order {last['order_id']} at {last['updated_at']})"


def reconcile_order(call: Call, order_id: str, body: ReconcileIn) -> ReconcileOut:
    """Match order, account, app and transaction; claim the transaction for the order.

    Checked in the order a person would fix them: the account's plan, the app's owner, then the
    transaction. A refusal names the field and changes nothing (the call rolls back).
    """
    check_plan(call.catalog, body.from_plan, "from_plan")
    account = ensure_account(call, body.account_id, body.from_plan)
    # An operator's `approve` overrides the check it answered, never the others nor the claim.
    if account["plan"] != body.from_plan and "from_plan" not in body.overrides:
        raise BusinessRefusal(
            ErrorType.RECONCILIATION_MISMATCH,
            f"account {body.account_id} is on plan {account['plan']!r}, "
            f"but the order upgrades from {body.from_plan!r}{_changed_by(call, body.account_id)}",
            field="from_plan",
        )
    owner = ensure_app(call, body.app_id, body.account_id)
    if owner != body.account_id and "app_id" not in body.overrides:
        raise BusinessRefusal(
            ErrorType.RECONCILIATION_MISMATCH,
            f"app {body.app_id} does not belong to account {body.account_id}",
            field="app_id",
        )
    claim = call.tx.one("SELECT order_id FROM claims WHERE transaction_id = ?", body.transaction_id)
    held_refund = call.tx.one(
        "SELECT custody FROM payment_refunds WHERE transaction_id = ? AND custody IS NOT NULL",
        body.transaction_id,
    )
    if claim is None and held_refund is not None:
        # Nobody claimed the payment within the grace period, so its custody gave it back: it
        # can no longer pay for anything (the refund and a claim exclude each other).
        raise BusinessRefusal(
            ErrorType.RECONCILIATION_MISMATCH,
            f"transaction {body.transaction_id} was refunded to the payer by "
            f"{held_refund['custody']} after no order claimed it in time",
            field="transaction_id",
        )
    if claim is not None and claim["order_id"] != order_id:
        raise BusinessRefusal(
            ErrorType.RECONCILIATION_MISMATCH,
            f"transaction {body.transaction_id} is already claimed by order {claim['order_id']}",
            field="transaction_id",
        )
    if claim is None:
        call.tx.insert(
            "claims",
            {
                "transaction_id": body.transaction_id,
                "order_id": order_id,
                "claimed_at": to_iso(call.now),
                "account_id": body.account_id,
            },
        )
    call.effect(
        Effect.RECONCILE_ORDER,
        order_id,
        account_id=body.account_id,
        app_id=body.app_id,
        transaction_id=body.transaction_id,
        account_plan=account["plan"],
    )
    return ReconcileOut(account_plan=account["plan"])
