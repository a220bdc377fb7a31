"""The config service's current apply latency per change kind: what a version first pushed now
would take to be applied in every region, given the pushes in flight and the peak hours
(`sandbox.load`), and how far the load may move before a push made a little later. A read: no
effect, no idempotency key.

Reports the quantiles the sandbox's own delays follow (each region's delay spread evenly over the
kind's off-peak range, times the load factor, divided by the time scale), so the saga's ETA can be
checked against what the sandbox really does. A `lag` app is an incident, not load: not in here.

`load_factor_low` / `load_factor_high`: for a caller whose push is still up to `within_s` away
(the ETA at payment confirmation), now's factor moved by the largest fall and the largest rise
the factor made within any span of that length over the last in-flight window (the factors the
pushes got, in the order they were made, and now's). No `within_s`: spans of the whole window.
It is how far the load has moved lately, not a forecast of a peak hour or a burst to come.
"""

from bisect import bisect_right
from collections import deque
from datetime import datetime, timedelta

from domain.catalog import ChangeKind
from sandbox import scenarios
from sandbox.load import in_flight_window
from sandbox.schemas import ApplyLatencyOut, KindLatencyOut
from sandbox.store import from_iso, to_iso
from sandbox.systems import regions
from sandbox.systems.call import Call

LOW_Q, TYPICAL_Q, HIGH_Q = 0.01, 0.5, 0.99


def apply_latency(call: Call, within_s: float | None = None) -> ApplyLatencyOut:
    pushes = regions.in_flight(call, call.now)
    # A version pushed now to every region joins the pushes in flight.
    factor = call.load.factor(pushes + len(call.catalog.regions), call.now)
    window = in_flight_window(call.time_scale)
    span = window if within_s is None else min(timedelta(seconds=within_s), window)
    fall, rise = largest_moves(recent_factors(call, factor, window), span)
    low, high = max(factor - fall, 0.0), factor + rise
    count = len(call.catalog.regions)

    def seconds(delays: scenarios.DelayRange, q: float) -> float:
        quantile = scenarios.everywhere_quantile(delays, q, count) * factor
        return round(scenarios.scaled(quantile, call.time_scale).total_seconds(), 6)

    kinds: dict[ChangeKind, KindLatencyOut] = {}
    for kind in ChangeKind:
        delays = scenarios.propagation_delays([kind])
        kinds[kind] = KindLatencyOut(
            low_s=seconds(delays, LOW_Q),
            typical_s=seconds(delays, TYPICAL_Q),
            high_s=seconds(delays, HIGH_Q),
        )
    return ApplyLatencyOut(
        at=to_iso(call.now),
        pushes_in_flight=pushes,
        peak=call.load.is_peak(call.now),
        load_factor=round(factor, 6),
        load_factor_low=round(low, 6),
        load_factor_high=round(high, 6),
        kinds=kinds,
    )


def recent_factors(
    call: Call, now_factor: float, window: timedelta
) -> list[tuple[datetime, float]]:
    """The factor each push first made in the last in-flight `window` got (as `regions.served`
    computes it), in time order, then now's."""
    since = call.now - window
    # A push's own in-flight count looks one window further back.
    times: list[datetime] = [
        from_iso(at)
        for (at,) in call.tx.execute(
            "SELECT first_push_at FROM config_pushes WHERE first_push_at > ? AND first_push_at <= ? "
            "ORDER BY first_push_at",
            to_iso(since - window),
            to_iso(call.now),
        )
    ]
    series = [
        (at, call.load.factor(bisect_right(times, at) - bisect_right(times, at - window), at))
        for at in times
        if at > since
    ]
    series.append((call.now, now_factor))
    return series


def largest_moves(series: list[tuple[datetime, float]], span: timedelta) -> tuple[float, float]:
    """The largest fall and the largest rise (both >= 0) from one point of `series` to a later one
    at most `span` after it: sliding minimum and maximum over the span, O(n)."""
    fall = rise = 0.0
    lows: deque[tuple[datetime, float]] = deque()  # increasing factors: the span's minimum first
    highs: deque[tuple[datetime, float]] = deque()  # decreasing factors: the span's maximum first
    for at, factor in series:
        for kept in (lows, highs):
            while kept and at - kept[0][0] > span:
                kept.popleft()
        if lows:
            rise = max(rise, factor - lows[0][1])
        if highs:
            fall = max(fall, highs[0][1] - factor)
        while lows and lows[-1][1] >= factor:
            lows.pop()
        lows.append((at, factor))
        while highs and highs[-1][1] <= factor:
            highs.pop()
        highs.append((at, factor))
    return fall, rise
