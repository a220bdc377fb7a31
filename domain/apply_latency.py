"""The platform's current apply latency, as the saga reads it (`read_apply_latency`): how long a
config version pushed now takes to be applied in every region, per change kind, under the load of
the moment (`GET /v1/config/apply-latency`, `docs/platform-api.md`). Evidence for the ETA.

Pure models and one reading helper; seconds of the platform's clock (already divided by the time
scale in the sandbox, like every delay the saga sees).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from domain.frozen import Frozen
from domain.policy import Window
from domain.steps import Step


class KindLatency(Frozen):
    """Seconds until a version first pushed now is applied everywhere: p1, median, p99."""

    low_s: float
    typical_s: float
    high_s: float


class ApplyLatencyInput(Step):
    """A read: `order_id` only names the run in the logs. `within_s`: the push is still up to this
    long away (the platform's clock), so the reading's load range is how far the load moved
    within spans of that length lately; None: a push made now (the range of the whole window)."""

    within_s: float | None = None


class ApplyLatency(Frozen):
    at: datetime
    pushes_in_flight: int
    peak: bool
    load_factor: float
    # Now's factor less the largest fall and plus the largest rise it made lately within the
    # reader's horizon (`within_s`); None: a platform, or a reading recorded, without them.
    load_factor_low: float | None = None
    load_factor_high: float | None = None
    kinds: dict[str, KindLatency]

    def window(self, change_kinds: Iterable[str], *, ahead: bool = False) -> Window | None:
        """The [p1, p99] window of the slowest of `change_kinds` (None: none reported).

        `ahead`: for a push still to come (the ETA before propagation starts), whose factor is
        not known yet: p1 at the low end of the load range, p99 at the high end. A push
        made now gets now's factor, and the quantiles scale with the factor.
        """
        known = [self.kinds[k] for k in change_kinds if k in self.kinds]
        if not known:
            return None
        slowest = max(known, key=lambda k: k.high_s)
        to_low, to_high = self._range_ratios() if ahead else (1.0, 1.0)
        return Window(
            earliest=timedelta(seconds=slowest.low_s * to_low),
            latest=timedelta(seconds=slowest.high_s * to_high),
        )

    def _range_ratios(self) -> tuple[float, float]:
        """The low and high ends of the load range over now's factor (1, 1: no range)."""
        now = self.load_factor
        if now <= 0:
            return 1.0, 1.0
        low, high = self.load_factor_low or now, self.load_factor_high or now
        return min(low, now) / now, max(high, now) / now

    def range_words(self) -> str | None:
        """The load range, for an ETA that rests on it (None: no range, or no movement)."""
        low, high = self.load_factor_low, self.load_factor_high
        if low is None or high is None or low == high:
            return None
        return (
            f"platform load x{self.load_factor:.3g}, may move to x{low:.3g}-{high:.3g} by the push"
        )

    def words(self) -> str:
        load = f"{self.pushes_in_flight} pushes in flight"
        if self.peak:
            load += ", peak hours"
        return f"platform apply latency x{self.load_factor:.3g} ({load})"
