"""Human-friendly meeting numbers: 11 digits, no leading zero, shown as ``123 4567 8901``."""

from __future__ import annotations

import re
import secrets

from api.errors import BadInputError


def generate() -> str:
    return str(secrets.randbelow(9 * 10**10) + 10**10)


def parse(field: str, value: str) -> str:
    digits = re.sub(r"[ \t\-]", "", value)
    if not re.fullmatch(r"[1-9][0-9]{9,10}", digits):  # [0-9], not \d: \d also matches non-ASCII digits
        raise BadInputError(field, f"{field} must be a 10 or 11 digit meeting number (got {value[:30]!r})")
    return digits


def display(number: str) -> str:
    return f"{number[:3]} {number[3:-4]} {number[-4:]}"
