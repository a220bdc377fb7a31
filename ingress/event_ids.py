"""The id of a status event (`GET /v1/upgrades/{order_id}/events`): derived from the status alone,
so any ingress process, after any restart, gives the same state the same id.

An id is `<step>.<fingerprint>`:
- `step`, a counter that never goes down during a run: 10,000 per stage record entered, plus the
  progress made inside the current one (attempts, pushes and region states, tickets opened and
  closed, compensations, payment notices and states, a cancel request). Consoles may order events
  by it; it can jump by more than one (changes between two reads are reported together).
- `fingerprint`, 8 hex digits of a hash of everything that counts as a change (the same things
  `starter.py follow` reports: not the clock, nor the ETA drifting with it).

Resuming is exact because every event carries the whole status: with `Last-Event-ID` equal to the
current id, the stream waits for the next change; with any other id, it sends the current status at
once (it subsumes every change the client missed) and never repeats one it has seen.

Boundary: pure functions of `UpgradeStatus`; no I/O.
"""

import hashlib
import json
from typing import Any

from domain.models import PaymentStatus
from domain.status import UpgradeStatus

PER_STAGE = 10_000
_REGION_RANK = {"pending": 0, "pushed": 1, "applied": 2, "rolled_back": 3}
_PAYMENT_RANK = {
    PaymentStatus.PENDING.value: 0,
    PaymentStatus.UNDER_REVIEW.value: 1,
    PaymentStatus.SUCCEEDED.value: 2,
    PaymentStatus.FAILED.value: 2,
}


def change_key(status: UpgradeStatus) -> list[Any]:
    """What counts as a change worth an event (JSON-serialisable)."""
    current = status.stages[-1] if status.stages else None
    return [
        status.stage.value,
        status.reason,
        status.cancel_requested,
        status.payment.status,
        len(status.stages),
        [current.attempts, current.last_error] if current else None,
        [[r.region, r.state, r.pushes] for r in status.regions],
        [[e.reason.value, e.ticket_id, e.closed_at is None] for e in status.escalations],
        [c.step for c in status.compensations],
        status.attention.reason.value if status.attention else None,
        # Becoming late, or losing the estimate, is news; the ETA drifting with the clock is not.
        [status.eta.overdue_s is not None, status.eta.latest is None],
    ]


def step(status: UpgradeStatus) -> int:
    """The monotonic part of the id (see the module docstring)."""
    current = status.stages[-1] if status.stages else None
    within = (
        (current.attempts if current else 0)
        + sum(r.pushes + _REGION_RANK.get(r.state, 0) for r in status.regions)
        + len(status.escalations)
        + sum(1 for e in status.escalations if e.closed_at is not None)
        + len(status.compensations)
        + status.payment.notices
        + _PAYMENT_RANK.get(status.payment.status, 0)
        + (1 if status.cancel_requested else 0)
    )
    return len(status.stages) * PER_STAGE + min(within, PER_STAGE - 1)


def event_id(status: UpgradeStatus) -> str:
    key = json.dumps(change_key(status), default=str, separators=(",", ":"))
    fingerprint = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"{step(status)}.{fingerprint}"
