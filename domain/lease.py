"""The account lease: orders of one account apply their changes one at a time.

A per-account entity workflow (`lease_workflow_id`: `account-ak1-<hash of the account id>`,
type `account-lease`) keeps a queue of the runs that asked for the account, in the order their
payments were confirmed (`paid_at`; the asks are concurrent activities that can reach the entity
in another order), grants the account to one run at a time with a monotonic fencing token, and
takes it back when the run releases it or closes in any way (completed, failed, cancelled,
terminated: it watches the holder). Waiting for payment stays parallel: a run asks only once it
is paid.

The names and messages shared by the saga (which asks, waits and releases), the activity that
asks (a signal-with-start: the entity may not exist yet) and the entity itself.
"""

import hashlib
from datetime import datetime

from domain.frozen import Frozen

LEASE_WORKFLOW = "account-lease"
# Signals of the entity, and of the saga (the entity's answers).
REQUEST_SIGNAL = "request"
RELEASE_SIGNAL = "release"
GRANTED_SIGNAL = "lease_granted"
QUEUED_SIGNAL = "lease_queued"
# Activity type names (not platform effects: these talk to Temporal, not to the platform).
REQUEST_ACTIVITY = "request_account_lease"
WATCH_ACTIVITY = "run_closed"
LEASE_ACTIVITIES = frozenset({REQUEST_ACTIVITY, WATCH_ACTIVITY})


def lease_workflow_id(account_id: str) -> str:
    """`account-ak1-` and 32 hex digits of a SHA-256 of the account id: workflow ids are never
    encrypted, and an account id is personal data (the same rule as the `TransactionKey` search
    attribute). `python -m cli.account_lease ACCOUNT_ID` prints it for an operator."""
    digest = hashlib.sha256(b"upgrade-activation/account-lease:" + account_id.encode("utf-8"))
    return f"account-ak1-{digest.hexdigest()[:32]}"


class RunRef(Frozen):
    """One run of the saga: a grant goes to this run only, never to a later run of the same id."""

    order_id: str
    workflow_id: str
    run_id: str


class LeaseRequest(Frozen):
    account_id: str
    run: RunRef
    paid_at: datetime | None = None
    # How often the entity checks that this run, once holding, is still running (policy time
    # divided by the run's time scale, like every delay).
    check_every_s: float = 300.0


def in_payment_order(queue: list[LeaseRequest], request: LeaseRequest) -> list[LeaseRequest]:
    """`queue` with `request` placed after every request paid no later than it (so equal times
    keep their arrival order); a request with no `paid_at` (asked by code from before it was sent)
    goes last, and nothing is placed ahead of one."""
    if request.paid_at is None:
        return [*queue, request]
    # Not ahead of a request whose payment time is unknown: it keeps its place by arrival.
    after = max((i + 1 for i, waiting in enumerate(queue) if waiting.paid_at is None), default=0)
    at = len(queue)
    for index in range(after, len(queue)):
        paid_at = queue[index].paid_at
        if paid_at is not None and paid_at > request.paid_at:
            at = index
            break
    return [*queue[:at], request, *queue[at:]]


class LeaseRelease(Frozen):
    account_id: str
    run: RunRef
    # The token of the grant being returned; None withdraws a request not granted yet.
    token: int | None = None
    reason: str = ""


class LeaseGrant(Frozen):
    account_id: str
    order_id: str
    token: int


class LeaseQueued(Frozen):
    """Sent to a waiting run when it queues and whenever the holder changes."""

    account_id: str
    holder_order_id: str
    holder_since: datetime
    position: int  # 1: next in line


class Holder(Frozen):
    run: RunRef
    token: int
    since: datetime
    check_every_s: float = 300.0


class AccountLeaseState(Frozen):
    """The entity's whole state: its input, carried over continue-as-new."""

    account_id: str
    next_token: int = 1
    holder: Holder | None = None
    queue: tuple[LeaseRequest, ...] = ()
    # Runs that held or withdrew recently: a late duplicate request of one is ignored.
    done: tuple[str, ...] = ()
    grants: int = 0
