"""Every duration the saga obeys, in one place, and its resolution for one order at start time.

`Policy` holds the business's typical durations (`docs/design.md`): payment windows and deadlines
per method, propagation windows per change kind, the 2 h activation SLA, the 7-day payment expiry.
`resolve_policy` turns it into an `OrderPolicy` for one order: business days become a fixed
duration, and everything is divided by the time scale (`UPGRADE_TIME_SCALE`). The `OrderPolicy`
is written into the workflow input, so a later config change never alters a running history.
"""

import math
from datetime import datetime, timedelta

from pydantic import Field

from domain.business_days import add_business_days
from domain.catalog import ChangeKind
from domain.frozen import Frozen
from domain.models import PaymentMethod, UpgradeOrder


class Window(Frozen):
    """A typical duration range: the ETA uses both ends; `latest` is also the patience limit."""

    earliest: timedelta
    latest: timedelta

    def scaled(self, scale: float) -> "Window":
        return Window(earliest=self.earliest / scale, latest=self.latest / scale)

    def __add__(self, other: "Window") -> "Window":
        return Window(earliest=self.earliest + other.earliest, latest=self.latest + other.latest)


def _minutes(earliest: float, latest: float) -> Window:
    return Window(earliest=timedelta(minutes=earliest), latest=timedelta(minutes=latest))


class PaymentMethodPolicy(Frozen):
    confirmation: Window
    # Exactly one of the two deadline forms is set.
    deadline: timedelta | None = None
    deadline_business_days: int | None = None
    poll_first: timedelta
    poll_max: timedelta


class Policy(Frozen):
    """The defaults, unscaled. Change numbers here, never in the workflow."""

    activation_sla: timedelta = timedelta(hours=2)
    payment_expiry: timedelta = timedelta(days=7)
    # A corporate transfer in manual review moves its deadline this far from the moment the
    # review is seen, instead of escalating (the review itself is unbounded).
    review_extension: timedelta = timedelta(days=1)
    payment: dict[PaymentMethod, PaymentMethodPolicy] = Field(
        default_factory=lambda: {
            PaymentMethod.ALIPAY: PaymentMethodPolicy(
                confirmation=_minutes(0, 5),
                deadline=timedelta(minutes=30),
                poll_first=timedelta(seconds=20),
                poll_max=timedelta(minutes=10),
            ),
            PaymentMethod.WECHAT_PAY: PaymentMethodPolicy(
                confirmation=_minutes(0, 5),
                deadline=timedelta(minutes=30),
                poll_first=timedelta(seconds=20),
                poll_max=timedelta(minutes=10),
            ),
            PaymentMethod.BANK_CARD: PaymentMethodPolicy(
                confirmation=_minutes(0, 30),
                deadline=timedelta(hours=2),
                poll_first=timedelta(minutes=1),
                poll_max=timedelta(minutes=20),
            ),
            PaymentMethod.CORPORATE_TRANSFER: PaymentMethodPolicy(
                confirmation=Window(earliest=timedelta(days=1), latest=timedelta(days=3)),
                deadline_business_days=3,
                poll_first=timedelta(minutes=10),
                poll_max=timedelta(hours=1),
            ),
        }
    )
    propagation: dict[ChangeKind, Window] = Field(
        default_factory=lambda: {
            ChangeKind.PLAN: _minutes(15, 30),
            ChangeKind.ADVANCED_PERMISSION: _minutes(60, 120),
            ChangeKind.CAPABILITY: _minutes(60, 120),
            ChangeKind.MEDIA_QUALITY: _minutes(15, 30),
        }
    )
    allocation: Window = _minutes(10, 30)
    client_refresh: Window = _minutes(5, 15)
    # Billing, activation and notification: calls, not waits.
    step: Window = _minutes(0, 1)
    # Below this, polling would only load the platform (matters at high time scales).
    min_poll_interval: timedelta = timedelta(milliseconds=50)


class OrderPolicy(Frozen):
    """The policy resolved for one order at start: scaled, business days fixed. Workflow input."""

    time_scale: float = 1.0
    activation_sla: timedelta
    payment_deadline: timedelta
    payment_expiry: timedelta
    review_extension: timedelta
    payment_confirmation: Window
    poll_first: timedelta
    poll_max: timedelta
    allocation: Window | None
    propagation: Window
    client_refresh: Window | None
    step: Window
    min_poll_interval: timedelta

    def poll_interval(self, attempt: int) -> timedelta:
        """Back-off for the n-th poll (0-based): doubling from `poll_first` up to `poll_max`."""
        interval: timedelta = self.poll_first * (2 ** min(attempt, 20))
        return max(min(interval, self.poll_max), self.min_poll_interval)

    def check_interval(self, window: Window) -> timedelta:
        """How often to look at a wait with this window: ten looks over its earliest end."""
        return max(window.earliest / 10, self.min_poll_interval)


def resolve_policy(
    order: UpgradeOrder, now: datetime, time_scale: float = 1.0, policy: Policy | None = None
) -> OrderPolicy:
    if not math.isfinite(time_scale) or time_scale <= 0:
        raise ValueError(f"time_scale must be a finite number > 0, not {time_scale}")
    policy = policy or Policy()
    method = policy.payment[order.payment_method]
    if method.deadline_business_days is not None:
        deadline = add_business_days(now, method.deadline_business_days) - now
    else:
        assert method.deadline is not None
        deadline = method.deadline
    kinds = order.change_kinds
    propagation = max((policy.propagation[k] for k in kinds), key=lambda w: w.latest)
    scale = time_scale
    return OrderPolicy(
        time_scale=time_scale,
        activation_sla=policy.activation_sla / scale,
        payment_deadline=deadline / scale,
        payment_expiry=policy.payment_expiry / scale,
        review_extension=policy.review_extension / scale,
        payment_confirmation=method.confirmation.scaled(scale),
        poll_first=method.poll_first / scale,
        poll_max=method.poll_max / scale,
        allocation=policy.allocation.scaled(scale) if ChangeKind.CAPABILITY in kinds else None,
        propagation=propagation.scaled(scale),
        client_refresh=(
            policy.client_refresh.scaled(scale) if ChangeKind.MEDIA_QUALITY in kinds else None
        ),
        step=policy.step.scaled(scale),
        min_poll_interval=policy.min_poll_interval,
    )
