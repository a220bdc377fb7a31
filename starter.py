"""`starter.py`: the CLI a backend script or an operator uses to drive upgrades.

Commands: start, status, follow, confirm-payment, resolve, cancel, list, audit; each takes `--json`
for machines. Exit codes: 0 success; 2 invalid input (one line on stderr naming the field; nothing
started or changed); 1 anything else (Temporal unreachable, unknown order, ...; for `audit`: any
violation); 130 when `follow` is stopped with Ctrl-C (the upgrade goes on). Wiring and argument
parsing only: the operations live in `service.upgrades` and `service.follow`, the audit in
`service.audit` (checks) and `service.audit_collect` (sources). Every acknowledgement a command
prints is first recorded in `$UPGRADE_DATA_DIR/acks.jsonl`, the journal the audit holds Temporal to.
"""

import argparse
import asyncio
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from rich.console import Console
from rich.table import Table
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import InvalidOrder
from domain.models import (
    CancelRequest,
    Identifier,
    PaymentNotice,
    Resolution,
    UpgradeOrder,
    catalog_price,
)
from domain.status import UpgradeStatus
from service import audit, follow, upgrades
from service.ack_journal import AckJournal
from service.audit_collect import CollectError, collect
from service.process import run_and_exit
from service.settings import load_settings, settings_error_line
from service.temporal import ConnectionSettingsError, connect, connect_config

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2
# Long enough for a cancel, which answers once its compensations have run.
DEFAULT_MESSAGE_TIMEOUT_S = 60.0
_ORDER_ID: TypeAdapter[str] = TypeAdapter(Identifier)


class InvalidInput(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _from_validation(err: ValidationError) -> InvalidInput:
    first = err.errors()[0]
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, InvalidOrder):
        return InvalidInput(cause.field, cause.message)
    field = ".".join(str(p) for p in first["loc"]) or "input"
    return InvalidInput(_printable(field), first["msg"])


def _printable(text: str) -> str:
    """An unknown field's name comes from the input: escape what could break the one line."""
    return text if text.isprintable() else repr(text)[1:-1]


M = TypeVar("M", bound=BaseModel)


def _build(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise _from_validation(err) from None
    except InvalidOrder as err:
        raise InvalidInput(err.field, err.message) from None


def _order_from_args(args: argparse.Namespace) -> UpgradeOrder:
    flags = (
        "order_id",
        "account_id",
        "app_id",
        "from_plan",
        "to_plan",
        "payment_method",
        "transaction_id",
    )
    if args.order_file:
        if any(getattr(args, f) for f in flags) or args.feature or args.amount:
            raise InvalidInput(
                "order_file", "give either --order-file or the order flags, not both"
            )
        try:
            data = json.loads(Path(args.order_file).read_text("utf-8"))
        except OSError as err:
            raise InvalidInput(
                "order_file", f"cannot read {args.order_file}: {err.strerror}"
            ) from None
        except json.JSONDecodeError as err:
            raise InvalidInput(
                "order_file", f"not valid JSON: {err.msg} (line {err.lineno})"
            ) from None
        if not isinstance(data, dict):
            raise InvalidInput("order_file", "must hold one JSON object")
        return _build(UpgradeOrder, data)
    missing = [f for f in flags if not getattr(args, f)]
    if missing:
        raise InvalidInput(missing[0], f"--{missing[0].replace('_', '-')} is required")
    features = tuple(args.feature or ())
    data = {f: getattr(args, f) for f in flags} | {"features": features, "currency": args.currency}
    if args.amount is None:
        try:
            data["amount"] = catalog_price(args.from_plan, args.to_plan, features)
        except InvalidOrder as err:
            raise InvalidInput(err.field, err.message) from None
    else:
        data["amount"] = args.amount
    return _build(UpgradeOrder, data)


# ---------------------------------------------------------------------------------------- output
class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        # Piped output (a script, a log) gets room for full ids instead of the 80-column default.
        self.console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)

    def json(self, value: Any) -> None:
        print(json.dumps(value, indent=2, default=str, ensure_ascii=False))

    def model(self, value: BaseModel) -> None:
        print(value.model_dump_json(indent=2))


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _print_status(out: Output, status: UpgradeStatus) -> None:
    if out.as_json:
        out.model(status)
        return
    c = out.console
    c.print(f"[bold]{status.summary}[/bold]  ({status.workflow_id})")
    c.print(
        f"stage: [bold]{status.stage}[/bold]" + (f" — {status.reason}" if status.reason else "")
    )
    eta = status.eta
    c.print(f"eta: {_when(eta.earliest)} … {_when(eta.latest)} UTC  ({eta.basis})")
    if status.attention:
        c.print(
            f"[yellow]needs attention[/yellow]: {status.attention.reason}: "
            f"{status.attention.detail}"
        )
    table = Table("stage", "started", "ended", "attempts", "last error")
    for r in status.stages:
        table.add_row(
            str(r.stage),
            _when(r.started_at),
            _when(r.ended_at),
            str(r.attempts),
            r.last_error or "",
        )
    c.print(table)
    if status.regions:
        regions = Table("region", "state", "pushes")
        for p in status.regions:
            regions.add_row(p.region, p.state, str(p.pushes))
        c.print(regions)
    for e in status.escalations:
        closed = f", closed {_when(e.closed_at)}" if e.closed_at else ", open"
        c.print(f"[red]escalation[/red] {e.reason} ({e.severity}): ticket {e.ticket_id}{closed}")
    for comp in status.compensations:
        c.print(f"compensation {comp.step}: {comp.outcome}")


# -------------------------------------------------------------------------------------- commands
def _journal() -> AckJournal:
    return AckJournal.in_dir(load_settings().data_dir)


async def cmd_start(args: argparse.Namespace, out: Output) -> int:
    order = _order_from_args(args)
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
            _print_status(out, final)
    return EXIT_OK


async def cmd_status(args: argparse.Namespace, out: Output) -> int:
    client = await connect()
    _print_status(out, await upgrades.upgrade_status(client, args.order_id))
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
        return _fail(str(err), EXIT_ERROR)
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
    notice = _build(
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
    resolution = _build(
        Resolution, {"action": args.action, "note": args.note, "operator": args.operator}
    )
    client = await connect()
    return await _send(
        out,
        upgrades.resolve(
            client, args.order_id, resolution, journal=_journal(), timeout_s=args.timeout
        ),
    )


async def cmd_cancel(args: argparse.Namespace, out: Output) -> int:
    request = _build(CancelRequest, {"reason": args.reason} if args.reason else {})
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
            _when(r.started_at),
        )
    out.console.print(table)
    return EXIT_OK


_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _since(text: str | None) -> datetime | None:
    """`--since`: an ISO 8601 moment (UTC if no offset) or an age such as `30m`, `2h`, `1d`."""
    if text is None:
        return None
    relative = _RELATIVE.match(text.strip())
    if relative:
        value, unit = relative.groups()
        return datetime.now(UTC) - timedelta(**{_UNITS[unit]: float(value)})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            "since", f"{text!r} is neither an ISO 8601 time nor an age like 30m, 2h, 1d"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def cmd_audit(args: argparse.Namespace, out: Output) -> int:
    since = _since(args.since)
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
        return _fail(str(err), EXIT_ERROR)
    if since is not None:
        facts = audit.scope_since(facts, since)
    if args.order_prefix:
        facts = audit.scope_prefix(facts, args.order_prefix)
    report = audit.audit(facts, timedelta(seconds=args.slack))
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


# --------------------------------------------------------------------------------------- parsing
class _Parser(argparse.ArgumentParser):
    # argparse prints its whole usage on bad input; we promise one line naming the argument.
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INVALID, f"{self.prog}: invalid input: {message}\n")


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 86400 seconds")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="starter.py", description=__doc__.splitlines()[0])
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    # Messages wait for the run's answer; with no worker running there is none.
    message = _Parser(add_help=False)
    message.add_argument(
        "--timeout",
        type=_timeout,
        default=DEFAULT_MESSAGE_TIMEOUT_S,
        help="seconds to wait for the run's answer, then exit 1 [%(default)g]",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    start = sub.add_parser("start", parents=[common], help="start the upgrade of a paid order")
    start.add_argument("--order-file", help="the order as a JSON object (instead of the flags)")
    start.add_argument("--order-id")
    start.add_argument("--account-id")
    start.add_argument("--app-id")
    start.add_argument("--from-plan")
    start.add_argument("--to-plan")
    start.add_argument("--feature", action="append", help="an add-on; repeat for several")
    start.add_argument("--payment-method", help="alipay, wechat_pay, bank_card, corporate_transfer")
    start.add_argument("--transaction-id")
    start.add_argument("--amount", help="defaults to the catalog price")
    start.add_argument("--currency", default="CNY")
    start.add_argument("--wait", action="store_true", help="wait until the upgrade ends")
    start.set_defaults(run=cmd_start)

    status = sub.add_parser("status", parents=[common], help="live status and ETA of an order")
    status.add_argument("order_id")
    status.set_defaults(run=cmd_status)

    fol = sub.add_parser(
        "follow", parents=[common], help="live view of an order until its upgrade ends"
    )
    fol.add_argument("order_id")
    fol.add_argument(
        "--interval",
        type=float,
        default=follow.DEFAULT_INTERVAL_S,
        help="seconds between two reads of the status (default 1)",
    )
    fol.set_defaults(run=cmd_follow)

    pay = sub.add_parser(
        "confirm-payment",
        parents=[common, message],
        help="deliver the payment channel's notification",
    )
    pay.add_argument("order_id")
    pay.add_argument("--transaction-id", required=True)
    pay.add_argument("--amount", required=True)
    pay.add_argument("--currency", default="CNY")
    pay.add_argument(
        "--status", default="succeeded", help="succeeded (default), failed or under_review"
    )
    pay.set_defaults(run=cmd_confirm_payment)

    res = sub.add_parser("resolve", parents=[common, message], help="an operator decision")
    res.add_argument("order_id")
    res.add_argument("--action", required=True, help="approve, retry or reject")
    res.add_argument("--note")
    res.add_argument("--operator")
    res.set_defaults(run=cmd_resolve)

    can = sub.add_parser(
        "cancel", parents=[common, message], help="cancel before activation (refunds)"
    )
    can.add_argument("order_id")
    can.add_argument("--reason")
    can.set_defaults(run=cmd_cancel)

    lst = sub.add_parser("list", parents=[common], help="runs matching a visibility query")
    lst.add_argument(
        "--query", help='e.g. "Escalated = true" or "UpgradeStage = \'needs_attention\'"'
    )
    lst.add_argument("--limit", type=int, default=100)
    lst.set_defaults(run=cmd_list)

    aud = sub.add_parser(
        "audit",
        parents=[common],
        help="check that no order was lost, duplicated or left stuck (exit 1 on any violation)",
    )
    aud.add_argument("--since", help="only orders seen at or after this ISO time or age (30m, 2h)")
    aud.add_argument("--order-prefix", help="only orders whose id starts with this")
    aud.add_argument(
        "--slack",
        type=float,
        default=audit.DEFAULT_SLACK.total_seconds(),
        help="wall seconds a run may exceed its expected time (recovery) [%(default)g]",
    )
    aud.add_argument("--platform-url", help="sandbox base URL [UPGRADE_PLATFORM_URL]")
    aud.add_argument("--journal", help="acknowledgement journal [$UPGRADE_DATA_DIR/acks.jsonl]")
    aud.set_defaults(run=cmd_audit)
    return parser


def _fail(message: str, code: int) -> int:
    # One line, whatever the input held (a line separator inside a value or a field name).
    print(f"starter.py: {' '.join(message.splitlines())}", file=sys.stderr)
    return code


async def _dispatch(args: argparse.Namespace) -> int:
    out = Output(args.json)
    try:
        code: int = await args.run(args, out)
        return code
    except InvalidInput as err:
        return _fail(f"invalid input: {err}", EXIT_INVALID)
    except ConnectionSettingsError as err:
        return _fail(f"invalid connection settings: {err}", EXIT_INVALID)
    except upgrades.MessageRejected as err:
        return _fail(
            f"rejected: {err.field}: {err.message.removeprefix(err.field + ': ')}", EXIT_INVALID
        )
    except (upgrades.UpgradeNotFound, upgrades.MessageTimeout) as err:
        return _fail(str(err), EXIT_ERROR)
    except RPCError as err:
        if err.status in (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED):
            # A query (status, follow) of a running upgrade is answered by a worker; with none
            # polling, the server gives up after its own timeout.
            return _fail(
                f"no answer from the upgrade's run in time (is a worker running?): {err.message}",
                EXIT_ERROR,
            )
        return _fail(
            f"Temporal error: {err.status.name if err.status else ''} {err.message}", EXIT_ERROR
        )
    except RuntimeError as err:  # the SDK's "Failed client connect: ..."
        address = connect_config().get("target_host")
        return _fail(f"cannot reach Temporal at {address}: {err}", EXIT_ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        load_settings()  # once up front: a bad UPGRADE_* variable is one line, before any call
    except ValidationError as err:
        return _fail(f"invalid configuration: {settings_error_line(err)}", EXIT_INVALID)
    if args.command not in ("start", "list", "audit"):
        # Same alphabet as at start: a malformed id is invalid input, not "not found".
        try:
            args.order_id = _ORDER_ID.validate_python(args.order_id)
        except ValidationError as err:
            return _fail(f"invalid input: order_id: {err.errors()[0]['msg']}", EXIT_INVALID)
    return asyncio.run(_dispatch(args))


if __name__ == "__main__":
    run_and_exit(main)
