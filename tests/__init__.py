"""The test suite. Each package mirrors the code package it tests (`tests/domain/` tests
`domain/`, `tests/service/test_metrics_endpoint.py` tests `service/metrics_endpoint.py`, ...);
helpers shared by several packages live in `tests/support/`. Besides them: `properties/`,
`security/`, `faults/` and `e2e/` cut across the packages, and two modules stay at the root
because they are about the whole code base: `test_layers.py` (the import order between packages)
and `test_replay.py` (the committed histories replayed with today's workflow code)."""
