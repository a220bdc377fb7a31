"""`make bench`: the saga's orchestration cost measured side by side with bare Temporal.

Modules, one job each: `profiles` (counts per mode), `shape` and `calibrate` (the saga's payload
sizes, measured from a real run), `baselines` (B2 and B3 workflows), `instant_platform`
(REAL-inproc's activities), `sandbox_server` (REAL-http's platform without delays),
`worker_process` (the one worker process), `processes` (children), `variants` (driving one
upgrade), `driver` (one measured run), `scale` (parked, burst, replay), `measure` (CPU, RSS,
database, histories, statistics), `runner` (the phases), `summary` (records, ratios, targets),
`report` (table, markdown, JSON), `machine` (what it ran on).
"""
