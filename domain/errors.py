"""Error type names shared by activities (which raise them) and the workflow (which decides).

The tree, by what the saga does with each:

    retryable (Temporal retries with backoff; never raised as a type here)
    ├── transport errors, timeouts          httpx errors left to propagate
    └── PlatformUnavailable                 the platform answered 5xx / 429
    non-retryable business refusals (ApplicationError(type=..., non_retryable=True))
    ├── needs a person → `needs_attention`, escalate at once, wait for `resolve`
    │   ├── ReconciliationMismatch          order / payment / account do not agree
    │   ├── CapacityRefused                 no compute for a `capability` change
    │   └── StaleAccountVersion             billing changed since the order decided (version or
    │                                       fencing token it carried is stale): re-read, decide
    ├── ends the saga
    │   └── PaymentFailed                   the channel reported the payment failed
    ├── a late forward call, no effect (the saga has moved on; nothing to decide)
    │   └── OrderCompensated                the order's effects on that system were undone
    ├── money that is not the caller's
    │   └── RefundRefused                   the transaction belongs to another order (or,
    │                                       for a held payment, an order has claimed it)
    └── a bug or a broken contract
        └── PlatformContractError           a 4xx we did not expect (bad request, unknown route)

Input errors raised before anything starts are pydantic `ValidationError`s or `InvalidOrder`.
"""

from enum import StrEnum


class ErrorType(StrEnum):
    RECONCILIATION_MISMATCH = "ReconciliationMismatch"
    CAPACITY_REFUSED = "CapacityRefused"
    PAYMENT_FAILED = "PaymentFailed"
    REFUND_REFUSED = "RefundRefused"
    PLATFORM_UNAVAILABLE = "PlatformUnavailable"
    PLATFORM_CONTRACT = "PlatformContractError"
    # Issue 11: the platform contract under concurrency (`docs/platform-api.md`).
    STALE_ACCOUNT_VERSION = "StaleAccountVersion"
    ORDER_COMPENSATED = "OrderCompensated"


# Refusals that park the saga in `needs_attention` until an operator decides.
# A stale account version is a mismatch found at billing time: someone else changed the account
# after the order checked it, so a person (or a fresh reconciliation) must decide again. No run
# of today's workflow sends a version, so none receives it yet.
NEEDS_ATTENTION_ERRORS = frozenset(
    {
        ErrorType.RECONCILIATION_MISMATCH,
        ErrorType.CAPACITY_REFUSED,
        ErrorType.STALE_ACCOUNT_VERSION,
    }
)


class InvalidOrder(ValueError):
    """An order or message that cannot be accepted; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
