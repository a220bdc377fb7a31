"""Payment reference codes for corporate transfers: what the payer writes in the transfer memo.

A code is `UA` followed by eight characters derived from the order id and one check character,
eleven in all (`UAK5AB3WVUZ` for order `ord-1`): short enough for any bank's memo field
(附言/用途), read aloud or retyped without confusion. The alphabet has 31 characters, the
digits 2-9 and the letters A-Z without I, L and O (no 0/O, 1/I/L mix-ups). 31 is prime, and the
check character makes the weighted sum of the nine values (weights 9, 8, ... 2 for the body, 1
for the check) divisible by 31: every single wrong character and every swap of two neighbours
changes that sum, so a typo never reads as another order's code; it reads as no code at all.

Deterministic: the same order id always gives the same code (a SHA-256 of a versioned
domain-separated id), so the code needs no storage. Eight characters are 31^8 ≈ 8.5e11 values;
two open orders sharing one is rare and not silent: the matcher reports the line as ambiguous.

Boundary: pure functions.
"""

import hashlib
import re
import unicodedata

from domain.frozen import StrictFrozen

PREFIX = "UA"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BODY_LENGTH = 8
LENGTH = len(PREFIX) + BODY_LENGTH + 1
_BASE = len(ALPHABET)  # 31, prime
_VALUE = {char: value for value, char in enumerate(ALPHABET)}
_DOMAIN = b"upgrade-activation/payment-reference/v1\x00"
# Anything in a memo that looks like a code: the prefix and nine letters or digits, not inside a
# longer word (Chinese characters around it are fine: they are not [A-Z0-9]).
_CANDIDATE = re.compile(r"(?<![A-Z0-9])UA[A-Z0-9]{9}(?![A-Z0-9])")


class InvalidReference(ValueError):
    """Not a valid payment reference code; the message says why."""


def _check_character(body: str) -> str:
    weighted = sum((BODY_LENGTH + 1 - i) * _VALUE[char] for i, char in enumerate(body))
    return ALPHABET[-weighted % _BASE]


def payment_reference(order_id: str) -> str:
    """The order's code, e.g. `UAK5AB3WVUZ`."""
    number = int.from_bytes(hashlib.sha256(_DOMAIN + order_id.encode("utf-8")).digest(), "big")
    body = ""
    for _ in range(BODY_LENGTH):
        number, digit = divmod(number, _BASE)
        body += ALPHABET[digit]
    return PREFIX + body + _check_character(body)


def normalise(text: str) -> str:
    """Upper case, full-width forms folded (a code typed with a Chinese input method's full-width
    letters reads as the plain one)."""
    return unicodedata.normalize("NFKC", text).upper()


def parse_reference(text: str) -> str:
    """`text` as a canonical code, or `InvalidReference` saying what is wrong with it."""
    code = normalise(text.strip())
    if len(code) != LENGTH or not code.startswith(PREFIX):
        raise InvalidReference(f"{text!r} is not {PREFIX} followed by {LENGTH - 2} characters")
    strangers = sorted({char for char in code[2:] if char not in _VALUE})
    if strangers:
        raise InvalidReference(f"{text!r} contains {''.join(strangers)}, not used in codes")
    if _check_character(code[2:-1]) != code[-1]:
        raise InvalidReference(f"{text!r} fails its check character (a typo?)")
    return code


class MemoScan(StrictFrozen):
    """The codes found in a memo: valid ones (each once, in order) and look-alikes that failed."""

    codes: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()  # "UA…: why" for the person reading the line


def scan_memo(memo: str) -> MemoScan:
    """Every code-like word in `memo`, validated."""
    codes: list[str] = []
    rejected: list[str] = []
    for match in _CANDIDATE.finditer(normalise(memo)):
        try:
            code = parse_reference(match.group())
        except InvalidReference as exc:
            rejected.append(str(exc))
            continue
        if code not in codes:
            codes.append(code)
    return MemoScan(codes=tuple(codes), rejected=tuple(rejected))
