"""Load on the sandbox's regional config service: how much slower a push applies when many pushes
are in flight, and during the platform's peak hours. Pure maths, no I/O, no clock of its own.

A push's apply delay (`scenarios.propagation_delay`) is multiplied by the load factor of the
moment of its FIRST push there, fixed for that push (like the rest of the sandbox, only the
timestamp is stored and the answer recomputed on every read):

    factor = (1 + per_push * max(0, in_flight - free_pushes)) * (peak_factor during peak hours)

`in_flight` counts the region pushes first made in the `IN_FLIGHT_WINDOW` before (divided by the
time scale like every delay, so the same batch loads a 60x sandbox as it loads a real one). Peak
hours are read off the sandbox's own clock in Beijing time (UTC+8), whole hours, not scaled: a
bench that wants "always peak" says `0-24`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

# A push counts as in flight this long (policy time) after its first push: about the time a
# plan change takes to apply everywhere off-peak.
IN_FLIGHT_WINDOW = timedelta(minutes=30)
PLATFORM_TZ = timezone(timedelta(hours=8), "UTC+8")


@dataclass(frozen=True)
class LoadProfile:
    """The sandbox's load knobs (`UPGRADE_SANDBOX_*`, `python -m sandbox serve --peak-*`)."""

    # Pushes in flight the service absorbs without slowing down (8 orders of 8 regions).
    free_pushes: int = 64
    # Extra apply latency per push in flight beyond `free_pushes` (0.005: +0.5 % each).
    per_push: float = 0.005
    # [start, end) hours of the peak, UTC+8; None: no peak. `end < start` wraps past midnight.
    peak_hours: tuple[int, int] | None = None
    peak_factor: float = 1.0

    def is_peak(self, at: datetime) -> bool:
        if self.peak_hours is None:
            return False
        start, end = self.peak_hours
        hour = at.astimezone(PLATFORM_TZ).hour
        return start <= hour < end if start <= end else hour >= start or hour < end

    def factor(self, in_flight: int, at: datetime) -> float:
        """How many times slower than off-peak and unloaded a push first made at `at` applies."""
        crowd = 1.0 + self.per_push * max(0, in_flight - self.free_pushes)
        return crowd * (self.peak_factor if self.is_peak(at) else 1.0)


def in_flight_window(time_scale: float) -> timedelta:
    return IN_FLIGHT_WINDOW / time_scale


def parse_peak_hours(text: str) -> tuple[int, int]:
    """`"19-23"` -> (19, 23): whole hours 0-24, start != end; `"22-2"` wraps past midnight."""
    start_text, sep, end_text = text.partition("-")
    try:
        if not sep:
            raise ValueError
        start, end = int(start_text), int(end_text)
    except ValueError:
        raise ValueError(f"{text!r} is not START-END in whole hours (e.g. 19-23)") from None
    if not (0 <= start <= 24 and 0 <= end <= 24) or start == end:
        raise ValueError(f"{text!r}: hours must be 0-24 and differ (0-24: always peak)")
    return start, end
