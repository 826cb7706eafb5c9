"""Whole numbers from untrusted text (query parameters, headers, cursors, RRULE parts): the one strict parser.

``str.isdigit()`` is True for ``²`` and for the digits of every script (``٣``, fullwidth U+FF13), and
``\\d`` in a ``str`` pattern matches the latter too. ``int()`` accepts those digits - and ``" 12\\n"``,
``"1_000"`` and ``"+12"`` - yet refuses ``²`` and any string over 4,300 digits with ValueError (a 500
wherever a caller forgot to catch it).
So untrusted text becomes a number here and nowhere else: ASCII ``[0-9]`` only, a sign only where the caller
allows one, a length bound checked before ``int()`` runs, then the range.
"""

from __future__ import annotations

import re

from api.errors import BadInputError

MAX_DIGITS = 20
"""Longest digit run read (leading zeros included): enough for any 64-bit value, far below int()'s limit."""

_UNSIGNED = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")
_SIGNED = re.compile(rf"[+-]?[0-9]{{1,{MAX_DIGITS}}}")
_DIGITS = re.compile(r"[0-9]+")


def is_ascii_digits(text: str) -> bool:
    """``text`` is one or more ASCII digits, however many (a well-formed but possibly huge number)."""
    return _DIGITS.fullmatch(text) is not None


def int_or_none(text: str, *, lo: int, hi: int, signed: bool = False) -> int | None:
    """``text`` as an int within ``lo..hi``, or None when it is anything else. For callers to whom a bad
    number means "no such thing" (a signed link that does not verify answers 403, not 400 with details)."""
    # fullmatch, not match with "$": "$" also matches before a trailing newline.
    if (_SIGNED if signed else _UNSIGNED).fullmatch(text) is None:
        return None
    value = int(text)
    return value if lo <= value <= hi else None


def parse_int(field: str, text: str, *, lo: int, hi: int, signed: bool = False) -> int:
    """``text`` as an int within ``lo..hi``; otherwise BadInputError naming the field and (a cut of) the value."""
    value = int_or_none(text, lo=lo, hi=hi, signed=signed)
    if value is None:
        sign = "an optional sign and " if signed else ""
        raise BadInputError(field, f"{field} must be {sign}ASCII digits for a number in {lo}..{hi} (got {text[:24]!r})")
    return value
