"""Payment reference codes: deterministic, unambiguous, and a typo never names another order."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.reference import (
    ALPHABET,
    LENGTH,
    InvalidReference,
    parse_reference,
    payment_reference,
    scan_memo,
)

ORDER_IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}", fullmatch=True)


def test_a_code_is_short_deterministic_and_of_the_unambiguous_alphabet() -> None:
    code = payment_reference("ord-1")
    assert code == payment_reference("ord-1") == "UAK5AB3WVUZ"
    assert len(code) == LENGTH == 11
    assert set(code[2:]) <= set(ALPHABET) and not set("01ILO") & set(ALPHABET)


@given(order_id=ORDER_IDS)
def test_every_code_parses_back(order_id: str) -> None:
    code = payment_reference(order_id)
    assert parse_reference(code) == parse_reference(code.lower()) == code


@given(order_id=ORDER_IDS, position=st.integers(2, LENGTH - 1), data=st.data())
def test_any_single_wrong_character_fails_the_check(
    order_id: str, position: int, data: st.DataObject
) -> None:
    code = payment_reference(order_id)
    wrong = data.draw(st.sampled_from([c for c in ALPHABET if c != code[position]]))
    typo = code[:position] + wrong + code[position + 1 :]
    with pytest.raises(InvalidReference, match="check character"):
        parse_reference(typo)


@given(order_id=ORDER_IDS, position=st.integers(2, LENGTH - 2))
def test_any_swap_of_neighbours_fails_the_check(order_id: str, position: int) -> None:
    code = payment_reference(order_id)
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    if swapped != code:
        with pytest.raises(InvalidReference):
            parse_reference(swapped)


@pytest.mark.parametrize(
    ("text", "why"),
    [("UAK5AB3WVU", "followed by 9"), ("XXK5AB3WVUZ", "followed by 9"), ("UAK5AB3WV0Z", "0")],
)
def test_what_is_not_a_code_says_why(text: str, why: str) -> None:
    with pytest.raises(InvalidReference, match=why):
        parse_reference(text)


def test_a_memo_is_scanned_among_other_words_and_full_width_letters() -> None:
    code = payment_reference("ord-1")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code.lower())
    assert scan_memo(f"货款{code}合同").codes == (code,)
    assert scan_memo(f"payment for {code.lower()}, thanks").codes == (code,)
    assert scan_memo(f"转账 {full_width}").codes == (code,)
    assert scan_memo(f"{code} {code}").codes == (code,)
    assert scan_memo(f"X{code}").codes == ()  # inside a longer word: not a code


def test_a_mistyped_code_in_a_memo_is_reported_not_matched() -> None:
    typo = "UAK5AB3WVUY"
    scan = scan_memo(f"货款 {typo}")
    assert scan.codes == () and "check character" in scan.rejected[0]
