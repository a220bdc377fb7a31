"""The account lease's part of the reports: its cost per upgrade and the same-account burst.

Renders the `lease` and `same-account` records built by `bench.summary` (formatting only), for
`bench.report`'s markdown and terminal output.
"""

from typing import Any

LEASE_HEADERS = (
    "variant", "c", "upgrades sampled", "saga events", "entity events", "wait p50 ms",
    "wait p99 ms", "wait p50 / upgrade p50",
)  # fmt: skip

LEASE_METHOD = """\
Every paid upgrade asks for its account at the start of `reconciling` (the
`request_account_lease` activity: a signal-with-start of the account's entity workflow), waits
for the `lease_granted` signal and releases the account at its end (the `release` signal). Read
off a sample of each run's histories (`bench/lease_cost.py`): **saga events**, the lease's own
events in the saga's history plus the workflow tasks they wake; **entity events**, the account
entity's history per order it served (every upgrade of the throughput runs is its own account:
one entity per upgrade); **wait**, from the request activity's scheduling to the grant signal
(server timestamps), what the lease adds to an upgrade's latency on a free account. B3 makes the
same exchange with a no-op entity (`bench/baseline_lease.py`), so REAL / B3 compares equal
shapes."""


def lease_rows(records: list[dict[str, Any]]) -> list[list[str]]:
    rows = [
        [
            r["variant"], str(r["concurrency"]), str(r["upgrades_sampled"]),
            f"{r['saga_events_per_upgrade']:.1f}", f"{r['entity_events_per_upgrade']:.1f}",
            f"{r['wait_p50_ms']:.0f}", f"{r['wait_p99_ms']:.0f}",
            f"{r['wait_p50_share_of_upgrade_p50']:.0%}",
        ]
        for r in records
        if r["kind"] == "lease"
    ]  # fmt: skip
    rows.sort(key=lambda row: (int(row[1]), row[0]))
    return rows


def same_account_line(records: list[dict[str, Any]]) -> str:
    burst = next(r for r in records if r["kind"] == "same-account")
    return (
        f"{burst['orders']} orders of one account (mixed target plans and add-ons, REAL-inproc), "
        f"all paid at once: all `active` {burst['total_s']:.1f} s after the first notice, "
        f"**{burst['throughput_per_s']:.2f} orders/s**; each order's latency (its notice -> its "
        f"result) p50 {burst['p50_ms']:.0f} ms, p99 {burst['p99_ms']:.0f} ms; lease wait "
        f"(queueing included) p50 {burst['lease_wait_p50_ms']:.0f} ms, p99 "
        f"{burst['lease_wait_p99_ms']:.0f} ms; {burst['saga_lease_events_per_order']:.1f} lease "
        f"events per saga, {burst['entity_events_per_order']:.1f} entity events per order "
        f"({burst['entity_events']} in all, {burst['entity_runs']} run(s) of the entity). "
        "Checked from the histories (else the benchmark fails): each order granted once, one at "
        "a time, each grant to the earliest payment among the orders waiting, activated in grant "
        "order. "
        "Against the order of the payments' confirmation (each run's `paid_at`): "
        f"{burst['payment_order_inverted_pairs']} pairs of orders granted in the opposite order, "
        f"at most {burst['payment_order_max_inversion_ms']:.0f} ms apart in payment time (see "
        "the notes)."
    )
