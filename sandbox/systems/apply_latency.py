"""The config service's current apply latency per change kind: what a version first pushed now
would take to be applied in every region, given the pushes in flight and the peak hours
(`sandbox.load`), and the range of load factors of the last in-flight window. A read: no effect,
no idempotency key.

Reports the quantiles the sandbox's own delays follow (each region's delay spread evenly over the
kind's off-peak range, times the load factor, divided by the time scale), so the saga's ETA can be
checked against what the sandbox really does. A `lag` app is an incident, not load: not in here.

The recent range (`load_factor_low`, `load_factor_high`: the factors the pushes first made in the
last in-flight window got, and now's) is how far the load has moved lately: a caller whose push is
still minutes away (the ETA at payment) cannot know the factor its push will get, only that the
load has recently been within this range.
"""

from bisect import bisect_right
from datetime import datetime

from domain.catalog import ChangeKind
from sandbox import scenarios
from sandbox.load import in_flight_window
from sandbox.schemas import ApplyLatencyOut, KindLatencyOut
from sandbox.store import from_iso, to_iso
from sandbox.systems import regions
from sandbox.systems.call import Call

LOW_Q, TYPICAL_Q, HIGH_Q = 0.01, 0.5, 0.99


def apply_latency(call: Call) -> ApplyLatencyOut:
    pushes = regions.in_flight(call, call.now)
    # A version pushed now to every region joins the pushes in flight.
    factor = call.load.factor(pushes + len(call.catalog.regions), call.now)
    low, high = recent_factors(call, factor)
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


def recent_factors(call: Call, now_factor: float) -> tuple[float, float]:
    """The lowest and highest load factor of the pushes first made in the last in-flight window,
    `now_factor` included: each push's factor as `regions.served` computes it."""
    window = in_flight_window(call.time_scale)
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
    factors = [now_factor]
    for at in times:
        if at <= since:
            continue
        in_flight = bisect_right(times, at) - bisect_right(times, at - window)
        factors.append(call.load.factor(in_flight, at))
    return min(factors), max(factors)
