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
    """A read: `order_id` only names the run in the logs."""


class ApplyLatency(Frozen):
    at: datetime
    pushes_in_flight: int
    peak: bool
    load_factor: float
    kinds: dict[str, KindLatency]

    def window(self, change_kinds: Iterable[str]) -> Window | None:
        """The [p1, p99] window of the slowest of `change_kinds` (None: none reported)."""
        known = [self.kinds[k] for k in change_kinds if k in self.kinds]
        if not known:
            return None
        slowest = max(known, key=lambda k: k.high_s)
        return Window(
            earliest=timedelta(seconds=slowest.low_s), latest=timedelta(seconds=slowest.high_s)
        )

    def words(self) -> str:
        load = f"{self.pushes_in_flight} pushes in flight"
        if self.peak:
            load += ", peak hours"
        return f"platform apply latency x{self.load_factor:.3g} ({load})"
