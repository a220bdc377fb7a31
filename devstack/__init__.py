"""The dev stack (`make run`, `python -m devstack`): the Temporal dev server, the sandbox
platform, the worker and the HTTP ingress on loopback, started, supervised and stopped by one
foreground process, with a demo batch on a fresh database.

Modules: `stack` (what runs, in which order, how it is known to be ready), `supervisor` (restart
with back-off, when to give up), `demo` (the demo batch and its one cancel). Boundary: process
wiring; it holds no business logic and drives the saga only through `starter.py`.
"""
