"""The sandbox: our embedded stand-in for the company platform the saga talks to.

One small HTTP service (FastAPI + SQLite) that implements the documented REST contract
(`docs/platform-api.md`) for the payment channel, orders, billing, scheduler, config, entitlements,
notifications and ticketing, with realistic delays, scenario tokens and fault injection. Nothing in
`workflows/` or `domain/` imports it: the saga only ever sees it over HTTP, through `activities/`.
It depends on `domain/` only (and third-party libraries), with its own settings.

Layout: `scenarios` (pure token and delay maths), `tables` and `store` (SQLite, idempotency,
ledger), `systems` (behaviour of each simulated system), `routes` (the HTTP routes, one module
per system, mirroring `systems`), `faults`, `schemas` (request and response bodies), `app` (the
app assembled), `settings`, `logs`, `cli` / `__main__` (`python -m sandbox`).
"""
