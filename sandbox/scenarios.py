"""Scenario tokens and delay maths of the sandbox: pure functions, no I/O, no clock of their own.

Everything time-dependent takes `now` and the moment a thing started, and every delay is divided
by the time scale here, so the store only keeps timestamps and the answer is recomputed on each
read. Delays are spread deterministically (a hash of the ids, never `random`) so a test or a demo
sees the same timings on every run.

An id carries a token when it contains it, ignoring case (the tokens and their effects are listed
in `docs/design.md` and `docs/platform-api.md`).
"""

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from domain.catalog import Catalog, ChangeKind
from domain.models import PaymentMethod, PaymentStatus
from sandbox.store import from_iso


class Token(StrEnum):
    PAY_FAIL = "pay-fail"
    PAY_REVIEW = "pay-review"
    PAY_NEVER = "pay-never"
    PAY_SHORT = "pay-short"
    PAY_OVER = "pay-over"
    ACCT_STALE = "acct-stale"
    NOCAP = "nocap"
    LAG = "lag"
    FLAKY = "flaky"


def has_token(value: str | None, token: Token) -> bool:
    """Whether `value` contains `token`, ignoring case.

    Plain containment, like a card processor's test numbers: `txpay-fail1` fails too, and so
    does an app named `flagship` contain `lag`. These are test-mode ids; say so to users.
    """
    return value is not None and token.value in value.lower()


class DelayRange(NamedTuple):
    """The shortest and longest simulated delay of one kind (before the time scale)."""

    earliest: timedelta
    latest: timedelta


# How long the channel takes to confirm a payment of each method, before the time scale: inside
# the method's typical confirmation window (instant methods within minutes, a corporate transfer
# in 1-3 business days).
PAYMENT_DELAY: dict[PaymentMethod, timedelta] = {
    PaymentMethod.ALIPAY: timedelta(seconds=60),
    PaymentMethod.WECHAT_PAY: timedelta(seconds=60),
    PaymentMethod.BANK_CARD: timedelta(minutes=5),
    PaymentMethod.CORPORATE_TRANSFER: timedelta(hours=24),
}
SHORT_PAYMENT = Decimal("1.00")
# What a `pay-over` channel captures beyond the order's amount (the customer paid too much).
OVER_PAYMENT = Decimal("1.00")

# Normal runs converge at the fast (off-peak) end of the policy's windows (allocation 10-30 min,
# propagation 15-30 and 60-120 min), so that a normal capability upgrade (allocation, advanced
# config and the calls in between) stays inside the 2 h activation SLA even at 3600x, where the
# orchestration's own milliseconds count as minutes. Only `lag` breaches it and needs re-pushes.
# Allocation was 5-10 min until 2026-12-03: faster than the policy's earliest, so the ETA (the
# policy's window for allocation: no evidence of the scheduler's own) began too late for every
# capability order (`python -m bench eta` counted them as misses).
ALLOCATION_DELAYS = DelayRange(timedelta(minutes=10), timedelta(minutes=15))
BASIC_PROPAGATION = DelayRange(timedelta(minutes=15), timedelta(minutes=22.5))
ADVANCED_PROPAGATION = DelayRange(timedelta(minutes=50), timedelta(minutes=65))
LAG_PROPAGATION = timedelta(hours=3)
_ADVANCED_KINDS = frozenset({ChangeKind.ADVANCED_PERMISSION, ChangeKind.CAPABILITY})

FLAKY_ERROR_RATE = 0.3


class MediaProfile(NamedTuple):
    resolution: str
    max_bitrate_kbps: int


MEDIA_PROFILES: dict[str, MediaProfile] = {
    "hd_720p": MediaProfile("1280x720", 2_500),
    "fhd_1080p": MediaProfile("1920x1080", 4_500),
    "uhd_4k": MediaProfile("3840x2160", 16_000),
}


def scaled(delay: timedelta, time_scale: float) -> timedelta:
    if time_scale <= 0:
        raise ValueError("time_scale must be > 0")
    return delay / time_scale


def spread(delays: DelayRange, *parts: str) -> timedelta:
    """A point of `delays` chosen by a stable hash of `parts`: same ids, same delay, every run."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    fraction = int.from_bytes(digest[:8], "big") / float(2**64 - 1)
    return delays.earliest + (delays.latest - delays.earliest) * fraction


# Payment channel -------------------------------------------------------------------------------
def payment_status(
    transaction_id: str,
    method: PaymentMethod,
    created_at: datetime,
    now: datetime,
    *,
    approved: bool,
    time_scale: float,
) -> PaymentStatus:
    """What the channel reports for a transaction first seen at `created_at`."""
    if has_token(transaction_id, Token.PAY_NEVER):
        return PaymentStatus.PENDING
    if now - created_at < scaled(PAYMENT_DELAY[method], time_scale):
        return PaymentStatus.PENDING
    if has_token(transaction_id, Token.PAY_FAIL):
        return PaymentStatus.FAILED
    if has_token(transaction_id, Token.PAY_REVIEW) and not approved:
        return PaymentStatus.UNDER_REVIEW
    return PaymentStatus.SUCCEEDED


class TransactionRow(Protocol):
    """A row of the sandbox's `transactions` table (read by column name)."""

    def __getitem__(self, column: str) -> Any: ...


class Capture(NamedTuple):
    amount: Decimal
    at: datetime


def capture(row: TransactionRow, now: datetime, time_scale: float) -> Capture | None:
    """What the channel has taken for a transaction, and when; None while nothing is taken.

    Settled by hand (`python -m sandbox settle`): its amount, whatever the scenario said.
    Otherwise the scenario: `succeeded` after the method's delay (after the review's approval
    for `pay-review`), for the reported amount. The notifier announces this, the bank statement
    books it.
    """
    if row["settled_at"] is not None:
        return Capture(Decimal(row["settled_amount"] or row["amount"]), from_iso(row["settled_at"]))
    method = PaymentMethod(row["method"])
    created = from_iso(row["created_at"])
    approved_at = row["approved_at"]
    status = payment_status(row["transaction_id"], method, created, now,
                            approved=approved_at is not None, time_scale=time_scale)  # fmt: skip
    if status is not PaymentStatus.SUCCEEDED:
        return None
    at = created + scaled(PAYMENT_DELAY[method], time_scale)
    if approved_at is not None:
        at = max(at, from_iso(approved_at))
    return Capture(reported_amount(row["transaction_id"], Decimal(row["amount"])), at)


def reported_amount(transaction_id: str, order_amount: Decimal) -> Decimal:
    """The amount the channel says was paid (and captured): the order amount, 1.00 less for
    `pay-short`, 1.00 more for `pay-over` (an overpayment: its surplus is refunded if the order
    is approved, all of it if rejected)."""
    if has_token(transaction_id, Token.PAY_SHORT):
        return order_amount - SHORT_PAYMENT
    if has_token(transaction_id, Token.PAY_OVER):
        return order_amount + OVER_PAYMENT
    return order_amount


# Accounts and billing --------------------------------------------------------------------------
def initial_account_plan(account_id: str, from_plan: str, catalog: Catalog) -> str:
    """The plan of an account seen for the first time: the order's `from_plan`, unless stale.

    A stale account sits one tier below `from_plan` (or above, for the lowest tier), the way a
    lapsed or already-changed subscription disagrees with the order in real life.
    """
    if not has_token(account_id, Token.ACCT_STALE):
        return from_plan
    tier = catalog.plans[from_plan].tier
    by_tier = {plan.tier: plan.name for plan in catalog.plans.values()}
    return by_tier.get(tier - 1) or by_tier.get(tier + 1) or from_plan


def quota_rules(plan: str, features: Iterable[str], catalog: Catalog) -> str:
    """The billing system's quota rule set: pay-as-you-go, or a monthly package plus add-ons."""
    base = plan if catalog.plans[plan].tier == 0 else f"monthly:{plan}"
    return base + "".join(f"+{feature}" for feature in features)


# Resource scheduler ----------------------------------------------------------------------------
def allocation_delay(app_id: str, region: str, time_scale: float) -> timedelta:
    return scaled(spread(ALLOCATION_DELAYS, "allocation", app_id, region), time_scale)


# Regional config -------------------------------------------------------------------------------
def propagation_delays(change_kinds: Iterable[str]) -> DelayRange:
    """The off-peak range of one region's apply delay: the slowest kind decides."""
    advanced = any(kind in _ADVANCED_KINDS for kind in change_kinds)
    return ADVANCED_PROPAGATION if advanced else BASIC_PROPAGATION


def propagation_delay(
    app_id: str, region: str, change_kinds: Iterable[str], time_scale: float, load: float = 1.0
) -> timedelta:
    """How long `region` takes to apply a version, from its first push: the slowest kind decides,
    `load` times slower under load (`sandbox.load`); `lag` is an incident, load or not."""
    if has_token(app_id, Token.LAG):
        return scaled(LAG_PROPAGATION, time_scale)
    delays = propagation_delays(change_kinds)
    return scaled(spread(delays, "propagation", app_id, region) * load, time_scale)


def everywhere_quantile(delays: DelayRange, q: float, regions: int) -> timedelta:
    """The q-quantile of the time until EVERY one of `regions` applied (the slowest of them),
    each region's delay spread evenly over `delays`: P(max <= x) = fraction(x) ** regions."""
    if not 0.0 <= q <= 1.0 or regions < 1:
        raise ValueError("q must be in [0, 1] and regions >= 1")
    fraction: float = q ** (1.0 / regions)
    return delays.earliest + (delays.latest - delays.earliest) * fraction
