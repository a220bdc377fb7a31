"""The client side of the saga, one implementation for every caller (the CLI, the ingress, the
dev stack's demo through the CLI, the benchmark, the tests): start an upgrade, read its status, send
it messages, list runs (`upgrades`), and the journal of every acknowledgement given
(`ack_journal`), which the audit holds Temporal to.

Boundary: Temporal client calls and their errors; no argument parsing, no rendering.
"""
