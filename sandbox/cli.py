"""`python -m sandbox`: serve the sandbox, or drive a running one over HTTP.

    serve [--host H] [--port P] [--peak-hours 19-23] [--peak-factor F]
                                                run the HTTP app (defaults from settings); the
                                                config service applies F times slower in the
                                                peak hours (UTC+8; `sandbox.load`)
    approve-review TRANSACTION_ID               end the manual review of a `pay-review` payment
    settle TRANSACTION_ID [--amount N] [--order ORDER_ID --method M]
                                                the channel captures the payment now: a pending
                                                or failed one succeeds late; with --order and
                                                --method, money the channel holds for an order
                                                nobody started or a second transaction
    money [--json]                              every transaction's capture, claim and refunds
    faults [--error-rate R] [--latency-ms N]    set the global fault switch (no flag: show it)
    ledger [--order ORDER_ID] [--json]          the effect ledger, as a table or JSON
    statement [--date YYYY-MM-DD]               the bank statement of the settled transfers (CSV)

The client commands talk to `--url` (default `UPGRADE_PLATFORM_URL`). Exit codes: 0 ok, 2 invalid
input (one line on stderr naming the argument), 1 anything else (e.g. the sandbox is not running).

Over ~300 lines on purpose: each command above is its argument checks, one request and its
output, a few lines each, read in the order of the usage.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from domain.models import PaymentMethod
from sandbox.load import parse_peak_hours
from sandbox.settings import SandboxSettings, load_settings

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage on bad input; we promise one line naming the argument.
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


def _error_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def _latency_ms(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 60_000:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 60000")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65_535:
        raise argparse.ArgumentTypeError(f"{text} is not between 1 and 65535")
    return value


def _amount(text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount") from None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise argparse.ArgumentTypeError(f"{text} is not a positive amount with 2 decimals")
    return str(value.quantize(Decimal("0.01")))


def _peak_hours(text: str) -> str:
    try:
        parse_peak_hours(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _peak_factor(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 1.0 <= value <= 100.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 1 and 100")
    return value


def build_parser(settings: SandboxSettings) -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sandbox", description="The platform sandbox.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    client = _Parser(add_help=False)
    client.add_argument(
        "--url", default=settings.platform_url, help="sandbox base URL (%(default)s)"
    )

    serve = commands.add_parser("serve", help="run the sandbox HTTP service")
    serve.add_argument("--host", default=settings.sandbox_host, help="(%(default)s)")
    serve.add_argument("--port", type=_port, default=settings.sandbox_port, help="(%(default)s)")
    serve.add_argument(
        "--peak-hours",
        type=_peak_hours,
        default=settings.sandbox_peak_hours,
        help="START-END hours of the config service's peak, UTC+8 (%(default)s)",
    )
    serve.add_argument(
        "--peak-factor",
        type=_peak_factor,
        default=settings.sandbox_peak_factor,
        help="how many times slower a push applies in the peak hours (%(default)s)",
    )

    approve = commands.add_parser(
        "approve-review", parents=[client], help="approve a payment in manual review"
    )
    approve.add_argument("transaction_id", metavar="TRANSACTION_ID")

    settle = commands.add_parser(
        "settle", parents=[client], help="the channel captures a transaction now (late payment)"
    )
    settle.add_argument("transaction_id", metavar="TRANSACTION_ID")
    settle.add_argument("--amount", type=_amount, help="captured amount (default: its amount)")
    settle.add_argument("--order", metavar="ORDER_ID", help="for a transaction new to the channel")
    settle.add_argument(
        "--method", choices=[m.value for m in PaymentMethod], help="for a new transaction"
    )
    settle.add_argument("--currency", help="for a new transaction (default CNY)")

    money = commands.add_parser(
        "money", parents=[client], help="the channel's money: captures, claims, refunds"
    )
    money.add_argument("--json", action="store_true", help="print the JSON list")

    faults = commands.add_parser(
        "faults", parents=[client], help="set (or, without flags, show) the global fault switch"
    )
    faults.add_argument("--error-rate", type=_error_rate, help="fraction of calls answering 503")
    faults.add_argument("--latency-ms", type=_latency_ms, help="latency added to every call")

    ledger = commands.add_parser("ledger", parents=[client], help="print the effect ledger")
    ledger.add_argument("--order", metavar="ORDER_ID", help="only this order's effects")
    ledger.add_argument("--json", action="store_true", help="print the JSON list")

    statement = commands.add_parser(
        "statement",
        parents=[client],
        help="the bank statement (CSV) of the corporate transfers the sandbox settled",
    )
    statement.add_argument(
        "--date", type=_day, help="only this booking date, YYYY-MM-DD (Beijing); default: all"
    )
    return parser


# Client commands -------------------------------------------------------------------------------
def _request(
    settings: SandboxSettings, url: str, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    try:
        with httpx.Client(base_url=url, timeout=settings.http_timeout_s) as http:
            return http.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise CliError(f"sandbox not reachable at {url}: {exc or type(exc).__name__}") from exc


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{error['type']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


def _approve(settings: SandboxSettings, args: argparse.Namespace) -> str:
    response = _request(
        settings,
        args.url,
        "POST",
        f"/v1/sandbox/transactions/{quote(args.transaction_id, safe='')}/approve-review",
    )
    if response.status_code in (404, 422):
        raise CliError(f"argument TRANSACTION_ID: {_error_message(response)}", EXIT_INVALID)
    if response.is_error:
        raise CliError(f"approve-review failed: {_error_message(response)}")
    body = response.json()
    return f"{body['transaction_id']}: approved (status now {body['status']})"


def _settle(settings: SandboxSettings, args: argparse.Namespace) -> str:
    body = {
        name: value
        for name, value in (
            ("amount", args.amount),
            ("order_id", args.order),
            ("method", args.method),
            ("currency", args.currency),
        )
        if value is not None
    }
    response = _request(
        settings,
        args.url,
        "POST",
        f"/v1/sandbox/transactions/{quote(args.transaction_id, safe='')}/settle",
        json=body,
    )
    if response.status_code == 422:
        error = response.json().get("error", {})
        flag = {"order_id": "--order", "amount": "--amount", "method": "--method"}
        where = flag.get(error.get("field"), "TRANSACTION_ID")
        raise CliError(f"argument {where}: {_error_message(response)}", EXIT_INVALID)
    if response.is_error:
        raise CliError(f"settle failed: {_error_message(response)}")
    out = response.json()
    return (
        f"{out['transaction_id']}: {out['status']} {out['amount']} {out['currency']} "
        f"(order {out['order_id']})"
    )


def format_money(rows: Sequence[dict[str, Any]]) -> str:
    """One transaction per line: captured, who claimed it, what was refunded."""
    if not rows:
        return "(no transactions)"
    lines = []
    for row in rows:
        refunded = sum(Decimal(r["amount"]) for r in row["refunds"])
        lines.append(
            f"{row['transaction_id']}  order {row['order_id']}  {row['status']}  captured "
            f"{row['captured']} {row['currency']}  claimed by {row['claimed_by'] or '-'}  "
            f"refunded {refunded:.2f} ({len(row['refunds'])} refund(s))"
        )
    return "\n".join(lines)


def _money(settings: SandboxSettings, args: argparse.Namespace) -> str:
    response = _request(settings, args.url, "GET", "/v1/sandbox/money")
    if response.is_error:
        raise CliError(f"money failed: {_error_message(response)}")
    rows: list[dict[str, Any]] = response.json()
    return json.dumps(rows, indent=2) if args.json else format_money(rows)


def _faults(settings: SandboxSettings, args: argparse.Namespace) -> str:
    if args.error_rate is None and args.latency_ms is None:
        response = _request(settings, args.url, "GET", "/v1/sandbox/faults")
    else:
        current = _request(settings, args.url, "GET", "/v1/sandbox/faults")
        if current.is_error:
            raise CliError(f"faults failed: {_error_message(current)}")
        wanted = current.json()
        # Only the flags given change: `--latency-ms 0` alone keeps the current error rate.
        if args.error_rate is not None:
            wanted["error_rate"] = args.error_rate
        if args.latency_ms is not None:
            wanted["latency_ms"] = args.latency_ms
        response = _request(settings, args.url, "PUT", "/v1/sandbox/faults", json=wanted)
    if response.is_error:
        raise CliError(f"faults failed: {_error_message(response)}")
    body = response.json()
    return f"error_rate={body['error_rate']} latency_ms={body['latency_ms']}"


def format_ledger(entries: Sequence[dict[str, Any]]) -> str:
    """A readable table: one effect per line, detail as compact JSON at the end."""
    if not entries:
        return "(no effects)"
    header = ("SEQ", "AT", "ORDER", "EFFECT", "KEY", "DETAIL")
    rows = [
        (
            str(entry["seq"]),
            entry["at"],
            entry["order_id"],
            f"{entry['system']}/{entry['action']}",
            entry["key"],
            json.dumps(entry["detail"], sort_keys=True, separators=(",", ":")),
        )
        for entry in entries
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)


def _ledger(settings: SandboxSettings, args: argparse.Namespace) -> str:
    params = {"order_id": args.order} if args.order else None
    response = _request(settings, args.url, "GET", "/v1/sandbox/ledger", params=params)
    if response.is_error:
        raise CliError(f"ledger failed: {_error_message(response)}")
    entries: list[dict[str, Any]] = response.json()
    return json.dumps(entries, indent=2) if args.json else format_ledger(entries)


def _statement(settings: SandboxSettings, args: argparse.Namespace) -> str:
    params = {"date": args.date.isoformat()} if args.date else None
    response = _request(settings, args.url, "GET", "/v1/sandbox/statement", params=params)
    if response.is_error:
        raise CliError(f"statement failed: {_error_message(response)}")
    return response.text.rstrip("\n")


# Serving ---------------------------------------------------------------------------------------
def _serve(settings: SandboxSettings, args: argparse.Namespace) -> int:
    # Imported here: the client commands must not pay for (or depend on) the server stack.
    import uvicorn

    from sandbox.app import create_app
    from sandbox.logs import configure_logging
    from sandbox.store import DB_FILENAME, IncompatibleStore

    settings = settings.model_copy(
        update={"sandbox_peak_hours": args.peak_hours, "sandbox_peak_factor": args.peak_factor}
    )
    try:
        app = create_app(settings)
    except IncompatibleStore as exc:
        raise CliError(str(exc)) from None
    except ValueError as exc:  # a channel key of the notifier that does not load (names it)
        raise CliError(str(exc), EXIT_INVALID) from exc
    configure_logging(settings.log_format, settings.log_level)
    print(
        f"sandbox: http://{args.host}:{args.port} (time scale {settings.time_scale:g}, "
        f"data {settings.data_dir / DB_FILENAME})",
        file=sys.stderr,
        flush=True,
    )
    # log_config=None: uvicorn's loggers go through the structlog setup above.
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=True)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = load_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = "UPGRADE_" + "_".join(str(part) for part in first["loc"]).upper()
        print(f"error: {variable}: {first['msg']}", file=sys.stderr)
        return EXIT_INVALID
    args = build_parser(settings).parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(settings, args)
        handler = {
            "approve-review": _approve,
            "settle": _settle,
            "money": _money,
            "faults": _faults,
            "ledger": _ledger,
            "statement": _statement,
        }
        print(handler[args.command](settings, args))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    return EXIT_OK
