"""Bank statement CSV: strict parsing with line numbers, and a writer it round-trips with."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.statement import (
    HEADER,
    StatementEntry,
    StatementError,
    parse_statement,
    write_statement,
)

HEAD = ",".join(HEADER)


def test_a_statement_parses_with_exact_amounts_and_line_numbers() -> None:
    text = (
        f"\ufeff{HEAD}\r\n"
        "2026-05-28,19.99,CNY,示例科技有限公司,货款 UAK5AB3WVUZ,CMB0001\r\n"
        '2026-05-28,1200,CNY,"Acme, Ltd.","contract 12, UABTND24XFZ",CMB0002\r\n'
        "\r\n"
    )
    first, second = parse_statement(text)
    assert (first.line_number, first.amount, first.booking_date) == (
        2,
        Decimal("19.99"),
        date(2026, 5, 28),
    )
    assert first.payer_name == "示例科技有限公司" and first.memo == "货款 UAK5AB3WVUZ"
    assert (second.line_number, second.amount, second.payer_name) == (
        3,
        Decimal("1200.00"),
        "Acme, Ltd.",
    )


def test_a_header_only_file_has_no_lines() -> None:
    assert parse_statement(HEAD + "\n") == ()


@pytest.mark.parametrize(
    "header", ["", "booking_date,amount,currency,payer,memo,bank_reference", "amount,booking_date"]
)
def test_a_bad_header_is_line_1(header: str) -> None:
    with pytest.raises(StatementError, match="line 1: the header must be"):
        parse_statement(header + "\n2026-05-28,19.99,CNY,A,B,C\n")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("2026-05-28,19.99,CNY,A,B", "5 fields, expected 6"),
        ("28/05/2026,19.99,CNY,A,B,R", "booking_date '28/05/2026'"),
        ("2026-02-30,19.99,CNY,A,B,R", "is not a date"),
        ("2026-05-28,19.999,CNY,A,B,R", "amount '19.999'"),
        ("2026-05-28,-19.99,CNY,A,B,R", "amount '-19.99'"),
        ('2026-05-28,"1,200.00",CNY,A,B,R', "amount '1,200.00'"),
        ("2026-05-28,0.00,CNY,A,B,R", "amount '0.00'"),
        ("2026-05-28,19.99,cny,A,B,R", "currency 'cny'"),
        ("2026-05-28,19.99,CNY,A,B,", "bank_reference is empty"),
    ],
)
def test_a_bad_line_is_reported_with_its_number(line: str, message: str) -> None:
    text = f"{HEAD}\n2026-05-28,1.00,CNY,A,B,OK1\n{line}\n"
    with pytest.raises(StatementError, match="line 3: ") as refused:
        parse_statement(text)
    assert message in str(refused.value)


def test_every_bad_line_is_listed_and_a_repeated_reference_too() -> None:
    text = f"{HEAD}\nx,1,CNY,A,B,R1\n2026-05-28,1.00,CNY,A,B,R2\n2026-05-28,1.00,CNY,A,B,R2\nbad\n"
    with pytest.raises(StatementError) as refused:
        parse_statement(text)
    assert [p.line_number for p in refused.value.problems] == [2, 4, 5]
    assert "repeats line 3" in str(refused.value)


_FIELD = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30
).map(str.strip)


@given(
    entries=st.lists(
        st.builds(
            StatementEntry,
            booking_date=st.dates(),
            amount=st.decimals(
                min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2
            ),
            currency=st.sampled_from(["CNY", "USD"]),
            payer_name=_FIELD,
            memo=_FIELD,
            bank_reference=st.uuids().map(str),
        ),
        max_size=5,
        unique_by=lambda e: e.bank_reference,
    )
)
def test_what_the_writer_writes_parses_back_the_same(entries: list[StatementEntry]) -> None:
    lines = parse_statement(write_statement(entries))
    as_written = [StatementEntry(**line.model_dump(exclude={"line_number"})) for line in lines]
    assert as_written == entries
    assert [line.line_number for line in lines] == list(range(2, len(entries) + 2))
