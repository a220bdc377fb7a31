"""The config service's current apply latency per change kind: what a version first pushed now
would take to be applied in every region, given the pushes in flight and the peak hours
(`sandbox.load`). A read: no effect, no idempotency key.

Reports the quantiles the sandbox's own delays follow (each region's delay spread evenly over the
kind's off-peak range, times the load factor, divided by the time scale), so the saga's ETA can be
checked against what the sandbox really does. A `lag` app is an incident, not load: not in here.
"""

from domain.catalog import ChangeKind
from sandbox import scenarios
from sandbox.schemas import ApplyLatencyOut, KindLatencyOut
from sandbox.store import to_iso
from sandbox.systems import regions
from sandbox.systems.call import Call

LOW_Q, TYPICAL_Q, HIGH_Q = 0.01, 0.5, 0.99


def apply_latency(call: Call) -> ApplyLatencyOut:
    pushes = regions.in_flight(call, call.now)
    # A version pushed now to every region joins the pushes in flight.
    factor = call.load.factor(pushes + len(call.catalog.regions), call.now)
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
        kinds=kinds,
    )
