"""What each simulated system does, one module per system, mirroring `activities/`.

Boundary: plain functions over one open store transaction (`Call`), with no HTTP and no clock of
their own; the routes in `sandbox.routes` decide idempotency, faults and the JSON answer. A function
either returns its response model (after recording its effect in the ledger, if it had one) or
raises a `sandbox.errors.ApiError`, which rolls the whole call back.

Besides the idempotency key, some systems are idempotent on their own natural key, because the
real ones are: billing per order, config versions per order, allocations per order, refunds per
transaction, entitlements per order, tickets per (order, reason), and every compensation
("nothing to undo" the second time). Such repeats answer the existing state and record no new
effect.

Several orders of one account (issue 11): billing, config and entitlements derive what an account
or app has as a fold over its live orders (`fold`), a compensation marks its order so a late
forward call is refused (`marks`), and what a region serves is read off its pushes (`regions`).
"""
