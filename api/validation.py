"""Input checks shared by the domains. Each raises BadInputError naming the field and the offending value."""

from __future__ import annotations

import re
import unicodedata
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.errors import BadInputError

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def email(field: str, value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value) or any(unicodedata.category(c) == "Cc" for c in value):
        raise BadInputError(field, f"{field} must be an email address (got {value[:80]!r})")
    return value


def text(field: str, value: str, *, min_len: int = 1, max_len: int) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
        raise BadInputError(field, f"{field} must not contain control characters")
    if not min_len <= len(value) <= max_len:
        raise BadInputError(field, f"{field} must be {min_len}..{max_len} characters (got {len(value)})")
    return value


def display_name(field: str, value: str) -> str:
    value = text(field, value, max_len=64)
    if "\n" in value or "\t" in value:
        raise BadInputError(field, f"{field} must be a single line")
    # A name people can see: not only spaces, zero-width or other format characters.
    if not any(unicodedata.category(c)[0] not in "ZC" for c in value):
        raise BadInputError(field, f"{field} must contain a visible character")
    return value


def int_range(field: str, value: int, lo: int, hi: int) -> int:
    if not lo <= value <= hi:
        raise BadInputError(field, f"{field} must be {lo}..{hi} (got {value})")
    return value


_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]{0,29}(/[A-Za-z0-9_+-]{1,30}){0,2}")
"""The shape of IANA names ("UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+3"): ASCII,
no dots (no "..", no "zone.tab"), no leading slash, short - checked before anything touches the filesystem."""


def timezone(field: str, value: str) -> str:
    try:
        if not _ZONE_NAME.fullmatch(value):
            raise ZoneInfoNotFoundError(value)
        ZoneInfo(value)
    # ZoneInfo opens a file named by the client: a directory ("Europe") raises IsADirectoryError, an OSError.
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise BadInputError(
            field, f"{field} must be an IANA time zone such as Europe/Paris (got {value[:64]!r})"
        ) from exc
    return value


def passcode(field: str, value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9]{4,10}", value):
        raise BadInputError(field, f"{field} must be 4..10 letters or digits")
    return value
