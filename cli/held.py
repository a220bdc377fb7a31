"""`starter.py held`: the payments held by a custody (`payment-{channel}-{transaction_id}`), for
the operator who got a `payment_held` ticket: list them, or show one.

Boundary: rendering; the reads are `client.custody`.
"""

import argparse

from rich.table import Table

from cli.output import EXIT_ERROR, EXIT_INVALID, EXIT_OK, Output, fail
from client.custody import CustodyNotFound, custody_status, list_custodies
from domain.custody import CustodyState, CustodyStatus, is_custody_id
from domain.moments import shown
from service.temporal import connect

STATES = [state.value for state in CustodyState]


def _print(out: Output, status: CustodyStatus) -> None:
    c = out.console
    c.print(f"[bold]{status.custody_id}[/bold]: {status.amount} {status.currency} via "
            f"{status.channel}, order {status.order_id}")  # fmt: skip
    c.print(f"state: [bold]{status.state}[/bold] — {status.detail}")
    c.print(f"why held: {', '.join(status.reasons)} ({status.deliveries} delivery(ies))")
    c.print(f"received {shown(status.received_at, with_date=True)} UTC, refunded unless claimed "
            f"by {shown(status.grace_until, with_date=True)} UTC")  # fmt: skip
    if status.claimed_by:
        c.print(f"claimed by order {status.claimed_by}")
    if status.refund:
        c.print(
            f"refund {status.refund.refund_id}: {status.refund.amount} {status.refund.currency}"
        )
    c.print(f"ticket: {status.ticket_id or '-'}")


async def cmd_held(args: argparse.Namespace, out: Output) -> int:
    if args.custody_id and not is_custody_id(args.custody_id):
        return fail(
            f"invalid input: custody_id: {args.custody_id!r} is not "
            "payment-{channel}-{transaction_id}",
            EXIT_INVALID,
        )
    client = await connect()
    if args.custody_id:
        try:
            status = await custody_status(client, args.custody_id)
        except CustodyNotFound as err:
            return fail(str(err), EXIT_ERROR)
        if out.as_json:
            out.model(status)
        else:
            _print(out, status)
        return EXIT_OK
    query = f"CustodyState = '{args.state}'" if args.state else None
    ids = await list_custodies(client, query, limit=args.limit)
    statuses = [await custody_status(client, workflow_id) for workflow_id in ids]
    if out.as_json:
        out.json([s.model_dump(mode="json") for s in statuses])
        return EXIT_OK
    table = Table("custody", "state", "amount", "order", "why", "grace until (UTC)", "ticket")
    for s in statuses:
        table.add_row(s.custody_id, s.state, f"{s.amount} {s.currency}", s.order_id,
                      ", ".join(s.reasons), shown(s.grace_until, with_date=True),
                      s.ticket_id or "-")  # fmt: skip
    out.console.print(table if statuses else "(no held payments)")
    return EXIT_OK
