"""The starter CLI (`starter.py`): the commands a backend script or an operator uses to drive
upgrades.

Commands: start, status, follow, confirm-payment, resolve, cancel, list, audit, held; each takes
`--json` for machines. Exit codes: 0 success; 2 invalid input (one line on stderr naming the
field; nothing started or changed); 1 anything else (Temporal unreachable, unknown order, ...;
for `audit`: any violation); 130 when `follow` is stopped with Ctrl-C (the upgrade goes on).
Every acknowledgement a command prints is first recorded in `$UPGRADE_DATA_DIR/acks.jsonl`, the
journal the audit holds Temporal to.

Modules: `main` (dispatch and the mapping of errors to exit codes), `parser` (the arguments),
`inputs` (arguments to validated models), `commands` (one function per command), `output`
(printing, the `status` view), `follow` and `follow_view` (the live view). Boundary: wiring and
rendering only; the operations live in `client.upgrades`, the audit in `audit`.
"""
