"""Bank statements of incoming transfers: a strict CSV parser and the matching writer.

The format (UTF-8, comma-separated, RFC 4180 quoting, one line per credit):

    booking_date,amount,currency,payer_name,memo,bank_reference
    2026-05-28,19.99,CNY,示例科技有限公司,货款 UAK5AB3WVUZ,CMB20260528000001

`booking_date` is ISO (YYYY-MM-DD); `amount` a positive number with at most two decimals (no
sign, no thousands separator); `currency` three capital letters; `memo` free text (the payer's
附言/用途) which should hold the order's reference code; `bank_reference` the bank's unique id of
the line, the idempotency key of an import, unique within a file.

Strict: the header must be exactly that; every bad line is reported with its line number and
nothing of a bad file is used (a person fixes the file, then imports it whole). A leading byte
order mark (Excel's "CSV UTF-8") is tolerated; a field spanning lines is not, so line numbers
are the file's.

Boundary: pure; the caller reads the file (the size cap is `MAX_LINES` lines).
"""

import csv
import io
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from pydantic import Field

from domain.frozen import StrictFrozen

HEADER = ("booking_date", "amount", "currency", "payer_name", "memo", "bank_reference")
MAX_LINES = 100_000
_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CENT = Decimal("0.01")


class StatementEntry(StrictFrozen):
    """One credit on the account, as the writer takes it."""

    booking_date: date
    amount: Decimal = Field(gt=0)
    currency: str = "CNY"
    payer_name: str = ""
    memo: str = ""
    bank_reference: str = Field(min_length=1)


class StatementLine(StatementEntry):
    """A parsed line, with its line number in the file (the header is line 1)."""

    line_number: int


class LineProblem(StrictFrozen):
    line_number: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line_number}: {self.message}"


class StatementError(ValueError):
    """The file is not a statement; `problems` lists every bad line (the first ones, at most 20)."""

    def __init__(self, problems: Iterable[LineProblem]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(str(problem) for problem in self.problems[:20])
        more = len(self.problems) - 20
        super().__init__(shown + (f"; and {more} more" if more > 0 else ""))


def _line(number: int, row: list[str]) -> StatementLine:
    """One data row, or `ValueError` with the message for its `LineProblem`."""
    if len(row) != len(HEADER):
        raise ValueError(f"{len(row)} fields, expected {len(HEADER)}")
    booking, amount, currency, payer, memo, reference = (field.strip() for field in row)
    if not _DATE.fullmatch(booking):
        raise ValueError(f"booking_date {booking!r} is not YYYY-MM-DD")
    try:
        booking_date = date.fromisoformat(booking)
    except ValueError:
        raise ValueError(f"booking_date {booking!r} is not a date") from None
    if not _AMOUNT.fullmatch(amount) or Decimal(amount) == 0:
        raise ValueError(f"amount {amount!r} is not a positive amount with at most two decimals")
    if not _CURRENCY.fullmatch(currency):
        raise ValueError(f"currency {currency!r} is not three capital letters")
    if not reference:
        raise ValueError("bank_reference is empty")
    return StatementLine(
        line_number=number,
        booking_date=booking_date,
        amount=Decimal(amount).quantize(_CENT),
        currency=currency,
        payer_name=payer,
        memo=memo,
        bank_reference=reference,
    )


def parse_statement(text: str) -> tuple[StatementLine, ...]:
    """Every line of the statement `text`, or `StatementError` listing every bad one."""
    text = text.removeprefix("\ufeff")
    # Only \n (and \r\n) end a line: str.splitlines would also split at U+2028 inside a memo.
    physical = text.replace("\r\n", "\n").split("\n")
    header = next(csv.reader(physical[:1]), [])
    if tuple(field.strip() for field in header) != HEADER:
        got = physical[0][:120] if physical[0] else "an empty line"
        raise StatementError(
            [
                LineProblem(
                    line_number=1, message=f"the header must be {','.join(HEADER)!r}, got {got!r}"
                )
            ]
        )
    if len(physical) > MAX_LINES + 1:
        raise StatementError(
            [LineProblem(line_number=MAX_LINES + 2, message=f"more than {MAX_LINES} lines")]
        )
    lines: list[StatementLine] = []
    problems: list[LineProblem] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(physical[1:], start=2):
        if not raw.strip():
            continue  # blank lines (a trailing newline, a spreadsheet's gaps) carry nothing
        try:
            rows = list(csv.reader([raw], strict=True))
            line = _line(number, rows[0])
        except (ValueError, csv.Error) as exc:
            problems.append(LineProblem(line_number=number, message=str(exc)))
            continue
        if line.bank_reference in seen:
            message = (
                f"bank_reference {line.bank_reference!r} repeats line {seen[line.bank_reference]}"
            )
            problems.append(LineProblem(line_number=number, message=message))
            continue
        seen[line.bank_reference] = number
        lines.append(line)
    if problems:
        raise StatementError(problems)
    return tuple(lines)


def write_statement(entries: Iterable[StatementEntry]) -> str:
    """The statement file for `entries` (what the sandbox's `statement` command prints)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for entry in entries:
        fields = (entry.payer_name, entry.memo, entry.bank_reference)
        if any("\n" in field or "\r" in field for field in fields):
            raise ValueError(f"line {entry.bank_reference!r}: a field contains a line break")
        writer.writerow(
            (
                entry.booking_date.isoformat(),
                f"{entry.amount.quantize(_CENT)}",
                entry.currency,
                *fields,
            )
        )
    return out.getvalue()
