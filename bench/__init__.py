"""`make bench`: the saga's orchestration cost measured side by side with bare Temporal.

Modules, one job each: `profiles` (counts per mode), `shape` and `calibrate` (the saga's payload
sizes, measured from a real run), `baselines` (B2 and B3 workflows), `instant_platform`
(REAL-inproc's activities), `sandbox_server` (REAL-http's platform without delays),
`worker_process` (the one worker process), `processes` (children), `variants` (driving one
upgrade), `driver` (one measured run), `scale` (parked, burst, replay), `measure` (CPU, RSS,
database, histories, statistics), `runner` (the phases), `summary` (records, ratios, targets),
`report` (table, markdown, JSON), `machine` (what it ran on). Apart from `make bench`:
`profile_worker` (CPU per upgrade and per replay, REAL against B3, with cProfile: for tuning on a
loaded machine, where wall-clock numbers are noise).
"""
