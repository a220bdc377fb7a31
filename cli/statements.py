"""`starter.py import-statement FILE` and `starter.py review`: bank statements and what waits for a person.

`import-statement` reads a bank statement (UTF-8 CSV, `channels.statement`), confirms the
corporate transfers it pays and records every other line for a person (`client.statement_import`);
importing the same file again changes nothing. Exit 0 when every new line was recorded (matched
or kept for review, listed), 1 when some could not be confirmed now (import again), 2 for a file
that is not a statement (every bad line named, nothing imported).

`review` lists what is kept for a person: statement lines that confirmed nothing, and channel
notices no run took (refunds, amounts that differ from the order's).
"""

import argparse
from pathlib import Path

from rich.table import Table

from channels.statement import StatementError
from cli.inputs import InvalidInput
from cli.output import EXIT_ERROR, EXIT_OK, Output
from client.ack_journal import AckJournal
from client.review_store import ReviewStore
from client.statement_import import ImportReport, import_statement
from service.settings import load_settings
from service.temporal import connect

# A statement of 100,000 lines is about 15 MB; more is not one day's statement.
MAX_STATEMENT_BYTES = 32 * 1024 * 1024


def read_statement(path: Path) -> str:
    """The file's text, or `InvalidInput` naming what is wrong with it."""
    try:
        if path.stat().st_size > MAX_STATEMENT_BYTES:
            raise InvalidInput("file", f"{path} is over {MAX_STATEMENT_BYTES} bytes")
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InvalidInput("file", f"{path} does not exist") from None
    except UnicodeDecodeError as err:
        raise InvalidInput("file", f"{path} is not UTF-8 (byte {err.start})") from None
    except OSError as err:
        raise InvalidInput("file", f"{path} cannot be read: {err.strerror}") from None


def print_report(out: Output, report: ImportReport) -> None:
    c = out.console
    matched = [line for line in report.lines if line.outcome == "matched"]
    c.print(
        f"{report.source}: {len(report.lines)} new line(s): {len(matched)} matched, "
        f"{len(report.for_review)} kept for a person, {len(report.to_retry)} to import again; "
        f"{len(report.already_imported)} already imported (unchanged)"
    )
    if report.lines:
        table = Table("line", "bank reference", "amount", "outcome", "order", "why")
        for line in report.lines:
            table.add_row(
                str(line.line_number),
                line.bank_reference,
                f"{line.amount} {line.currency}",
                line.outcome,
                line.order_id or ", ".join(line.candidates) or "-",
                line.reason,
            )
        c.print(table)


async def cmd_import_statement(args: argparse.Namespace, out: Output) -> int:
    path = Path(args.file)
    text = read_statement(path)
    settings = load_settings()
    client = await connect()
    try:
        report = await import_statement(
            client,
            text,
            source=path.name,
            store=ReviewStore.in_dir(settings.data_dir),
            journal=AckJournal.in_dir(settings.data_dir),
        )
    except StatementError as err:
        raise InvalidInput("file", f"{path} is not a bank statement: {err}") from None
    if out.as_json:
        out.json(report.model_dump(mode="json"))
    else:
        print_report(out, report)
    return EXIT_ERROR if report.to_retry else EXIT_OK


async def cmd_review(args: argparse.Namespace, out: Output) -> int:
    store = ReviewStore.in_dir(load_settings().data_dir)
    lines = store.lines(for_review_only=not args.all)
    notices = store.notices()
    if out.as_json:
        out.json(
            {
                "statement_lines": [line.model_dump(mode="json") for line in lines],
                "channel_notices": [notice.model_dump(mode="json") for notice in notices],
            }
        )
        return EXIT_OK
    table = Table("bank reference", "booked", "amount", "payer", "memo", "outcome", "why")
    for line in lines:
        table.add_row(
            line.bank_reference,
            line.booking_date,
            f"{line.amount} {line.currency}",
            line.payer_name,
            line.memo,
            line.outcome,
            line.reason,
        )
    out.console.print(f"statement lines{'' if args.all else ' for a person'}: {len(lines)}")
    if lines:
        out.console.print(table)
    notes = Table("channel", "notice", "kind", "trade", "amount", "refund", "order", "why")
    for notice in notices:
        notes.add_row(
            notice.channel,
            notice.notice_id,
            notice.kind,
            notice.trade_no,
            f"{notice.amount} {notice.currency}",
            notice.refund_amount or "-",
            notice.order_id or "-",
            notice.reason,
        )
    out.console.print(f"channel notices no run took (refunds, mismatches): {len(notices)}")
    if notices:
        out.console.print(notes)
    return EXIT_OK
