"""Statement lines matched to open orders by reference code and exact amount, idempotently."""

from decimal import Decimal
from pathlib import Path

from channels.matching import MatchKind, OpenOrder, match_statement
from channels.reference import payment_reference
from channels.statement import HEADER, parse_statement

A, B = payment_reference("ord-a"), payment_reference("ord-b")
ORDERS = (
    OpenOrder(order_id="ord-a", reference=A, amount=Decimal("19.99")),
    OpenOrder(order_id="ord-b", reference=B, amount=Decimal("1200.00")),
)


def statement(*lines: str) -> str:
    return "\n".join([",".join(HEADER), *lines]) + "\n"


def kinds(text: str, seen: frozenset[str] = frozenset()) -> list[tuple[MatchKind, str | None]]:
    result = match_statement(parse_statement(text), ORDERS, seen)
    return [(o.kind, o.order_id) for o in result.outcomes]


def test_a_line_with_the_code_and_the_exact_amount_matches() -> None:
    result = match_statement(
        parse_statement(statement(f"2026-05-28,19.99,CNY,Acme,货款 {A} 谢谢,R1")), ORDERS
    )
    (outcome,) = result.matched
    assert outcome.order_id == "ord-a" and outcome.line.bank_reference == "R1"
    assert result.for_review == ()


def test_a_line_without_a_code_is_unmatched_even_with_a_unique_amount() -> None:
    assert kinds(statement("2026-05-28,1200.00,CNY,Acme,contract 12,R1")) == [
        (MatchKind.UNMATCHED, None)
    ]


def test_a_mistyped_code_is_unmatched_and_says_so() -> None:
    typo = A[:-1] + ("2" if A[-1] != "2" else "3")
    result = match_statement(
        parse_statement(statement(f"2026-05-28,19.99,CNY,Acme,{typo},R1")), ORDERS
    )
    (outcome,) = result.outcomes
    assert outcome.kind is MatchKind.UNMATCHED and "check character" in outcome.reason


def test_a_code_of_no_open_order_is_unmatched() -> None:
    other = payment_reference("ord-paid-long-ago")
    assert kinds(statement(f"2026-05-28,19.99,CNY,Acme,{other},R1")) == [
        (MatchKind.UNMATCHED, None)
    ]


def test_two_codes_in_one_memo_are_ambiguous() -> None:
    result = match_statement(
        parse_statement(statement(f"2026-05-28,19.99,CNY,Acme,{A} {B},R1")), ORDERS
    )
    (outcome,) = result.outcomes
    assert outcome.kind is MatchKind.AMBIGUOUS and set(outcome.candidates) == {"ord-a", "ord-b"}


def test_a_code_shared_by_two_open_orders_is_ambiguous() -> None:
    twins = (*ORDERS, OpenOrder(order_id="ord-a2", reference=A, amount=Decimal("19.99")))
    result = match_statement(parse_statement(statement(f"2026-05-28,19.99,CNY,Acme,{A},R1")), twins)
    assert result.outcomes[0].kind is MatchKind.AMBIGUOUS


def test_another_amount_or_currency_is_a_wrong_amount() -> None:
    text = statement(f"2026-05-28,19.98,CNY,Acme,{A},R1", f"2026-05-28,1200.00,USD,Acme,{B},R2")
    assert kinds(text) == [(MatchKind.WRONG_AMOUNT, "ord-a"), (MatchKind.WRONG_AMOUNT, "ord-b")]


def test_a_second_payment_for_one_order_is_a_duplicate_for_a_person() -> None:
    text = statement(f"2026-05-28,19.99,CNY,Acme,{A},R1", f"2026-05-29,19.99,CNY,Acme,{A},R2")
    assert kinds(text) == [(MatchKind.MATCHED, "ord-a"), (MatchKind.DUPLICATE, "ord-a")]


def test_importing_the_same_file_twice_changes_nothing() -> None:
    text = statement(f"2026-05-28,19.99,CNY,Acme,{A},R1", "2026-05-28,5.00,CNY,X,none,R2")
    first = match_statement(parse_statement(text), ORDERS)
    seen = frozenset(o.line.bank_reference for o in first.outcomes)
    second = match_statement(parse_statement(text), ORDERS, seen)
    assert second.outcomes == () and second.already_imported == ("R1", "R2")


def test_a_longer_statement_only_brings_its_new_lines() -> None:
    old = f"2026-05-28,19.99,CNY,Acme,{A},R1"
    result = match_statement(
        parse_statement(statement(old, f"2026-05-29,1200.00,CNY,Acme,{B},R2")), ORDERS, {"R1"}
    )
    assert [(o.kind, o.order_id) for o in result.outcomes] == [(MatchKind.MATCHED, "ord-b")]


def test_the_documented_example_statement_parses_and_matches() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "payment-channels.md").read_text(encoding="utf-8")
    example = doc.split("```csv\n", 1)[1].split("```", 1)[0]
    orders = [
        OpenOrder(
            order_id="ord-1001", reference=payment_reference("ord-1001"), amount=Decimal("19.99")
        ),
        OpenOrder(
            order_id="ord-1002", reference=payment_reference("ord-1002"), amount=Decimal("1200")
        ),
    ]
    result = match_statement(parse_statement(example), orders)
    assert [(o.kind, o.order_id) for o in result.outcomes] == [
        (MatchKind.MATCHED, "ord-1001"),
        (MatchKind.MATCHED, "ord-1002"),
        (MatchKind.UNMATCHED, None),
    ]
