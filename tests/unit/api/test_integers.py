from __future__ import annotations

import random
import unicodedata

import pytest

from api.errors import BadInputError
from api.integers import MAX_DIGITS, int_or_none, parse_int

HOSTILE = [
    "²", "¹²", "٣", "۱۲", "३", "১২", "１２", "𝟙𝟚", "Ⅻ", "½",
    "1e3", "1E3", " 12", "12 ", "\t12", "12\n", "12\r\n", "\x00", "1\x002", "12\x00",
    "0x10", "0o7", "0b1", "1_000", "1,000", "1.5", "1.", ".5", "--1", "+-1", "- 1", "+", "-", "",
    "9" * 5000, "0" * 5000 + "1", "9" * (MAX_DIGITS + 1), "inf", "nan", "١٢٣abc",
]  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("signed", [False, True])
def test_hostile_text_is_no_number(text: str, signed: bool) -> None:
    assert int_or_none(text, lo=-(10**30), hi=10**30, signed=signed) is None
    with pytest.raises(BadInputError) as err:
        parse_int("count", text, lo=-(10**30), hi=10**30, signed=signed)
    assert err.value.field == "count"
    assert len(err.value.message) < 200  # a 5,000-digit value is cut, not echoed


@pytest.mark.parametrize("text", ["+12", "-0", "-1", "+0"])
def test_signs_only_where_allowed(text: str) -> None:
    assert int_or_none(text, lo=-100, hi=100) is None
    assert int_or_none(text, lo=-100, hi=100, signed=True) == int(text)


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("7", 7), ("0012", 12), ("9" * MAX_DIGITS, 10**MAX_DIGITS - 1)])
def test_ascii_digits_are_numbers(text: str, value: int) -> None:
    assert int_or_none(text, lo=0, hi=10**MAX_DIGITS) == value
    assert parse_int("n", text, lo=0, hi=10**MAX_DIGITS) == value


def test_range_is_inclusive_and_checked() -> None:
    assert parse_int("n", "1", lo=1, hi=1000) == 1
    assert parse_int("n", "1000", lo=1, hi=1000) == 1000
    for text in ("0", "1001"):
        with pytest.raises(BadInputError, match=r"1\.\.1000"):
            parse_int("n", text, lo=1, hi=1000)
    assert int_or_none("-5", lo=-4, hi=4, signed=True) is None


def test_every_non_ascii_decimal_digit_is_refused() -> None:
    """Every character Unicode calls a digit or numeric, in every script, alone and after an ASCII digit."""
    numeric = [chr(c) for c in range(0x80, 0x110000) if unicodedata.numeric(chr(c), None) is not None]
    assert len(numeric) > 1000 and "٣" in numeric and "²" in numeric and "３" in numeric
    for ch in numeric:
        assert int_or_none(ch, lo=0, hi=10**9) is None, repr(ch)
        assert int_or_none("1" + ch, lo=0, hi=10**9, signed=True) is None, repr(ch)


def test_random_strings_agree_with_a_reference_parser() -> None:
    """Property check (stdlib ``random`` with a fixed seed; hypothesis is not in the lock file): over strings
    drawn from a hostile alphabet, the helper says a number exactly when a plain reference reading does."""
    alphabet = "0123456789+- _.\n\x00e٣²３x"
    rng = random.Random(12)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        body = text[1:] if text[:1] in "+-" else text
        ok = 0 < len(body) <= MAX_DIGITS and all("0" <= c <= "9" for c in body)
        expected = int(text) if ok and -1000 <= int(text) <= 1000 else None
        assert int_or_none(text, lo=-1000, hi=1000, signed=True) == expected, repr(text)
