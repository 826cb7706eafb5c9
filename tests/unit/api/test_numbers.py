"""Meeting numbers: generation, parsing (what people type) and display."""

from __future__ import annotations

import re

import pytest

from api.errors import BadInputError
from api.meetings import numbers


def test_generate_gives_eleven_ascii_digits_without_a_leading_zero() -> None:
    sample = [numbers.generate() for _ in range(5000)]
    for n in sample:
        assert re.fullmatch(r"[1-9][0-9]{10}", n), n
    assert len(set(sample)) == len(sample)
    # The whole range is used: both ends of the first digit show up in 5000 draws (each has p ≈ 1/9).
    assert {n[0] for n in sample} == set("123456789")


@pytest.mark.parametrize(
    "typed",
    [
        "12345678901",
        "123 4567 8901",
        "123-4567-8901",
        "  123 4567 8901  ",
        "123 - 4567 - 8901",
        "1-2-3-4-5-6-7-8-9-0-1",
    ],
)
def test_parse_ignores_spaces_and_dashes(typed: str) -> None:
    assert numbers.parse("number", typed) == "12345678901"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "123456789",  # too short
        "123456789012",  # too long
        "01234567890",  # leading zero
        "123 4567 890a",
        "123.4567.8901",
        "123_4567_8901",
        "+12345678901",
        "(123) 4567 8901",
        "123/4567/8901",
        "1\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661",  # Arabic-Indic digits after an ASCII 1
        "1\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10\uff11",  # full-width digits after an ASCII 1
    ],
)
def test_parse_rejects_anything_else(typed: str) -> None:
    with pytest.raises(BadInputError) as info:
        numbers.parse("number", typed)
    assert info.value.field == "number"


def test_parse_names_the_field_it_was_given() -> None:
    with pytest.raises(BadInputError) as info:
        numbers.parse("input.number", "nope")
    assert info.value.field == "input.number"


def test_display_groups_three_four_four_and_parses_back() -> None:
    assert numbers.display("12345678901") == "123 4567 8901"
    for _ in range(200):
        n = numbers.generate()
        shown = numbers.display(n)
        assert re.fullmatch(r"\d{3} \d{4} \d{4}", shown), shown
        assert numbers.parse("number", shown) == n
