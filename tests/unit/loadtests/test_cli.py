"""Load-test command lines refuse numbers outside their bounds, with the range in the message."""

from __future__ import annotations

import argparse

import pytest

from loadtests.cli import bounded_int


def test_numbers_inside_the_bounds_pass_and_the_rest_say_the_range() -> None:
    parse = bounded_int(2, 16)
    assert parse("2") == 2 and parse("16") == 16
    for bad in ("1", "17", "-3", "100000"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"2\.\.16"):
            parse(bad)
    with pytest.raises(ValueError):
        parse("many")
