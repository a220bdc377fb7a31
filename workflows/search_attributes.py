"""The custom search attributes of an upgrade run and of a held payment's custody: typed keys, and
their server registration list.

Every server we start (dev server, test servers, compose) must register `REGISTRATION` before a
workflow upserts one of these, or the workflow task fails and retries forever. No personal data
goes into them: stage, method, plan name, flags, times and a pseudonym only.

`TransactionKey` is a one-way digest of the order's `transaction_id` (the `out_trade_no` the
payment channels notify with; `client.payment_orders.transaction_key`), never the id itself: it is
set once at start by `client.upgrades`, never upserted by the workflow, and the channels' own
doors find an order's run by it.
"""

from collections.abc import Mapping
from types import MappingProxyType

from temporalio.common import SearchAttributeKey

UPGRADE_STAGE = SearchAttributeKey.for_keyword("UpgradeStage")
PAYMENT_METHOD = SearchAttributeKey.for_keyword("PaymentMethod")
TARGET_PLAN = SearchAttributeKey.for_keyword("TargetPlan")
ESCALATED = SearchAttributeKey.for_bool("Escalated")
ACTIVATION_DEADLINE = SearchAttributeKey.for_datetime("ActivationDeadline")
ACTIVATION_ETA = SearchAttributeKey.for_datetime("ActivationEta")
# A held payment's custody (`workflows.custody`): holding, applied, refunded, not_charged.
CUSTODY_STATE = SearchAttributeKey.for_keyword("CustodyState")
TRANSACTION_KEY = SearchAttributeKey.for_keyword("TransactionKey")

ALL_KEYS = (
    UPGRADE_STAGE,
    PAYMENT_METHOD,
    TARGET_PLAN,
    ESCALATED,
    ACTIVATION_DEADLINE,
    ACTIVATION_ETA,
    CUSTODY_STATE,
    TRANSACTION_KEY,
)

# Name -> the type word the `temporal` CLI and the operator API use.
REGISTRATION: Mapping[str, str] = MappingProxyType(
    {
        "UpgradeStage": "Keyword",
        "PaymentMethod": "Keyword",
        "TargetPlan": "Keyword",
        "Escalated": "Bool",
        "ActivationDeadline": "Datetime",
        "ActivationEta": "Datetime",
        "CustodyState": "Keyword",
        "TransactionKey": "Keyword",
    }
)


def dev_server_flags() -> list[str]:
    """`--search-attribute NAME=Type` flags for `temporal server start-dev`."""
    flags: list[str] = []
    for name, kind in REGISTRATION.items():
        flags += ["--search-attribute", f"{name}={kind}"]
    return flags
