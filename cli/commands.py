"""One function per `starter.py` command: validated arguments in, an exit code out.

Each builds its models (`cli.inputs`), connects to Temporal (once, here: the property tests
replace `connect` in this module to prove that invalid input never reaches Temporal), calls
`client.upgrades` or the audit, and prints through `cli.output`. Errors that end a command
(Temporal's, a refused message, an unknown order) are left to `cli.main`, which maps them to an
exit code and one line.
"""

import argparse
import asyncio
import sys
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.table import Table
from temporalio.service import RPCError

from audit import checks, scope
from audit.collect import CollectError, collect
from cli import follow
from cli.inputs import InvalidInput, build, order_from_args
from cli.output import EXIT_ERROR, EXIT_OK, Output, fail, print_status
from client import upgrades
from client.ack_journal import AckJournal
from domain.models import CancelRequest, PaymentNotice, Resolution
from domain.moments import shown
from service.settings import load_settings
from service.temporal import connect


def _journal() -> AckJournal:
    return AckJournal.in_dir(load_settings().data_dir)


async def cmd_start(args: argparse.Namespace, out: Output) -> int:
    order = order_from_args(args)
    settings = load_settings()
    client = await connect()
    result = await upgrades.start_upgrade(
        client,
        order,
        task_queue=settings.task_queue,
        time_scale=settings.time_scale,
        journal=_journal(),
    )
    final = await upgrades.wait_result(client, order.order_id) if args.wait else None
    if out.as_json:
        payload: dict[str, Any] = asdict(result)
        if final is not None:
            payload["status"] = final.model_dump(mode="json")
        out.json(payload)
    else:
        verb = "started" if result.created else "already exists (nothing new started)"
        out.console.print(f"{result.workflow_id} {verb}: run {result.run_id}")
        if final is not None:
            print_status(out, final)
    return EXIT_OK


async def cmd_status(args: argparse.Namespace, out: Output) -> int:
    client = await connect()
    print_status(out, await upgrades.upgrade_status(client, args.order_id))
    return EXIT_OK


async def cmd_follow(args: argparse.Namespace, out: Output) -> int:
    """Exit 0 once the run reaches a terminal stage, whichever (active, failed, cancelled,
    expired): the follow itself succeeded, and the final line or record names the stage."""
    if not 0 < args.interval <= 3600:
        raise InvalidInput("interval", "must be a number of seconds in (0, 3600]")
    client = await connect()
    sink = follow.pick_sink(out.as_json, out.console, args.interval)
    try:
        with sink:
            await follow.follow(client, args.order_id, sink, args.interval)
    except follow.RunClosed as err:
        return fail(str(err), EXIT_ERROR)
    except asyncio.CancelledError:  # Ctrl-C: asyncio.run re-raises it as KeyboardInterrupt (130)
        print("starter.py: stopped following; the upgrade goes on", file=sys.stderr)
        raise
    return EXIT_OK


async def _send(out: Output, send: Any) -> int:
    ack = await send
    if out.as_json:
        out.model(ack)
    else:
        out.console.print(
            f"{ack.result}: stage {ack.stage}" + (f" ({ack.detail})" if ack.detail else "")
        )
    return EXIT_OK


async def cmd_confirm_payment(args: argparse.Namespace, out: Output) -> int:
    notice = build(
        PaymentNotice,
        {
            "order_id": args.order_id,
            "transaction_id": args.transaction_id,
            "amount": args.amount,
            "currency": args.currency,
            "status": args.status,
        },
    )
    client = await connect()
    return await _send(
        out, upgrades.confirm_payment(client, notice, journal=_journal(), timeout_s=args.timeout)
    )


async def cmd_resolve(args: argparse.Namespace, out: Output) -> int:
    resolution = build(
        Resolution,
        {
            "action": args.action,
            "note": args.note,
            "operator": args.operator,
            "attention_id": args.attention_id,
        },
    )
    client = await connect()
    return await _send(
        out,
        upgrades.resolve(
            client, args.order_id, resolution, journal=_journal(), timeout_s=args.timeout
        ),
    )


async def cmd_cancel(args: argparse.Namespace, out: Output) -> int:
    request = build(CancelRequest, {"reason": args.reason} if args.reason else {})
    client = await connect()
    return await _send(
        out,
        upgrades.cancel(client, args.order_id, request, journal=_journal(), timeout_s=args.timeout),
    )


async def cmd_list(args: argparse.Namespace, out: Output) -> int:
    client = await connect()
    try:
        rows = await upgrades.list_upgrades(client, args.query, args.limit)
    except RPCError as err:
        if "invalid" in err.message.lower() or "syntax" in err.message.lower():
            raise InvalidInput("query", err.message) from None
        raise
    if out.as_json:
        out.json([asdict(r) for r in rows])
        return EXIT_OK
    table = Table("workflow", "status", "stage", "escalated", "plan", "method", "started")
    for r in rows:
        table.add_row(
            r.workflow_id,
            r.status,
            r.stage or "-",
            str(r.escalated),
            r.target_plan or "-",
            r.payment_method or "-",
            shown(r.started_at, with_date=True),
        )
    out.console.print(table)
    return EXIT_OK


async def cmd_audit(args: argparse.Namespace, out: Output) -> int:
    try:
        since = scope.parse_since(args.since)
    except ValueError as err:
        raise InvalidInput("since", str(err)) from None
    if args.slack < 0:
        raise InvalidInput("slack", "must be 0 or more seconds")
    settings = load_settings()
    journal = Path(args.journal) if args.journal else AckJournal.in_dir(settings.data_dir).path
    client = await connect()
    try:
        facts = await collect(
            client, platform_url=args.platform_url or settings.platform_url,
            journal=journal, since=since,
        )  # fmt: skip
    except CollectError as err:
        return fail(str(err), EXIT_ERROR)
    if since is not None:
        facts = scope.scope_since(facts, since)
    if args.order_prefix:
        facts = scope.scope_prefix(facts, args.order_prefix)
    report = checks.audit(facts, timedelta(seconds=args.slack))
    if out.as_json:
        out.model(report)
    else:
        s = report.summary
        out.console.print(
            f"audit: {s.orders} orders, {s.terminal} terminal, {s.lost} lost, "
            f"{s.duplicated} duplicated; stages "
            + (", ".join(f"{k} {v}" for k, v in s.stages.items()) or "-")
        )
        for v in report.violations:
            out.console.print(f"VIOLATION {v.order_id} {v.kind}: {v.reason}", markup=False)
        for note in report.notes:
            out.console.print(f"note: {note}", markup=False)
        out.console.print("audit: clean" if report.clean else
                          f"audit: {len(report.violations)} violation(s)")  # fmt: skip
    return EXIT_OK if report.clean else EXIT_ERROR
