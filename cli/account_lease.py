"""`starter.py account ACCOUNT_ID`: which order holds an account (the account lease) and which
wait, in payment order; and the entity's workflow id, for the Web UI and the `temporal` CLI.

Boundary: rendering; the read is `client.account_lease`.
"""

import argparse

from cli.output import EXIT_OK, Output
from client.account_lease import account_lease_state
from domain.lease import lease_workflow_id
from domain.moments import shown
from service.temporal import connect


async def cmd_account(args: argparse.Namespace, out: Output) -> int:
    client = await connect()
    workflow_id = lease_workflow_id(args.account_id)
    state = await account_lease_state(client, args.account_id)
    if out.as_json:
        out.json(
            {
                "workflow_id": workflow_id,
                "lease": state.model_dump(mode="json") if state else None,
            }
        )
        return EXIT_OK
    c = out.console
    c.print(f"account lease workflow: {workflow_id}")
    if state is None:
        c.print("no order of this account has asked for it yet")
        return EXIT_OK
    holder = state.holder
    if holder is None:
        c.print("free: no order is applying a change")
    else:
        c.print(f"held by order {holder.run.order_id} since "
                f"{shown(holder.since, with_date=True)} UTC (grant #{holder.token})")  # fmt: skip
    for place, waiting in enumerate(state.queue, start=1):
        c.print(f"  {place}. {waiting.run.order_id} waits")
    c.print(f"{state.grants} grants so far")
    return EXIT_OK
