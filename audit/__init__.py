"""The audit (`starter.py audit`): no paid upgrade lost, applied twice or left silently stuck.

Three views of the same orders are joined: what clients were told (the acknowledgement journal),
what the platform applied (the sandbox's effects ledger) and what Temporal ran. Modules: `facts`
(the models), `collect` (reading the three sources), `scope` (narrowing to some orders), `checks`
(the verdict, one violation per broken promise). The command's arguments and output are
`cli.commands`'.
"""
