"""The audit narrowed to some orders (`--since`, `--order-prefix`): an order is judged whole or not
at all, so a scope keeps every fact of the orders it selects.

Boundary: pure functions over `AuditFacts`, and the parsing of `--since`.
"""

import re
from datetime import UTC, datetime, timedelta

from audit.facts import AuditFacts

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str | None) -> datetime | None:
    """`--since`: an ISO 8601 moment (UTC if no offset) or an age such as `30m`, `2h`, `1d`;
    ValueError naming the text otherwise."""
    if text is None:
        return None
    relative = _RELATIVE.match(text.strip())
    if relative:
        value, unit = relative.groups()
        return datetime.now(UTC) - timedelta(**{_UNITS[unit]: float(value)})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither an ISO 8601 time nor an age like 30m, 2h, 1d"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def scope_since(facts: AuditFacts, since: datetime) -> AuditFacts:
    """Only the orders with a fact (acknowledgement, effect, run start) at or after `since`, with
    all of their facts: an order is judged whole or not at all."""
    orders = (
        {a.order_id for a in facts.acks if a.at >= since}
        | {e.order_id for e in facts.ledger if e.at >= since}
        | {r.order_id for r in facts.runs if r.chain_started_at >= since}
    )
    return _only(facts, orders)


def scope_prefix(facts: AuditFacts, prefix: str) -> AuditFacts:
    """Only the orders whose id starts with `prefix` (a batch, a day's orders)."""
    orders = {
        o
        for o in (
            *(a.order_id for a in facts.acks),
            *(e.order_id for e in facts.ledger),
            *(r.order_id for r in facts.runs),
        )
        if o.startswith(prefix)
    }
    return _only(facts, orders)


def _only(facts: AuditFacts, orders: set[str]) -> AuditFacts:
    # Accounts and apps are judged when a selected order touched them, always against all of
    # their orders (`platform.orders` stays whole: a fold is over every order of an account).
    platform = facts.platform
    selected = [o for o in platform.orders if o.order_id in orders]
    accounts = {o.account_id for o in selected}
    apps = {o.app_id for o in selected}
    money = facts.money
    if money is not None:
        # A transaction goes with the order it was paid for or that claimed it.
        kept = tuple(
            t for t in money.transactions if t.order_id in orders or t.claimed_by in orders
        )
        money = money.model_copy(update={"transactions": kept})
    return facts.model_copy(
        update={
            "acks": tuple(a for a in facts.acks if a.order_id in orders),
            "ledger": tuple(e for e in facts.ledger if e.order_id in orders),
            "runs": tuple(r for r in facts.runs if r.order_id in orders),
            "platform": platform.model_copy(
                update={
                    "accounts": tuple(a for a in platform.accounts if a.account_id in accounts),
                    "apps": tuple(a for a in platform.apps if a.app_id in apps),
                }
            ),
            "money": money,
        }
    )
