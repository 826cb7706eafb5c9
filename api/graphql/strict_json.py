"""Strict JSON for request bodies and WebSocket messages (RFC 8259 plus I-JSON, RFC 7493).

``json.loads`` raises more than ``JSONDecodeError`` on hostile input — ``ValueError`` for integers over 4,300
digits, ``UnicodeDecodeError`` for invalid UTF-8, ``RecursionError`` for deep nesting — and accepts what is not
JSON or not safely usable: ``NaN``/``Infinity``, ``1e999`` (→ inf), duplicate keys (the last wins: two parsers
may disagree on what was sent), lone surrogates (``"\\ud800"``: not Unicode; databases refuse to store it).
Everything here raises ``JSONRejected`` with a message for the client instead.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_INTEGER_DIGITS = 64
"""GraphQL's Int is 32-bit and Float a double: no variable needs a longer integer literal."""


class JSONRejected(json.JSONDecodeError):
    """A ``JSONDecodeError`` so that callers catching that (Strawberry's WebSocket loop) handle it too."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "", 0)
        self.msg = message

    def __str__(self) -> str:
        return self.msg


def _integer(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise JSONRejected(f"an integer has {digits:,} digits; at most {MAX_INTEGER_DIGITS} are accepted")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONRejected(f"the number {text[:40]} is out of range")
    return value


def _constant(name: str) -> Any:
    raise JSONRejected(f"{name} is not JSON")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise JSONRejected(f"duplicate key {duplicate[:40]!r} in an object")
    return result


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_int=_integer, parse_float=_float, parse_constant=_constant)


def _check_strings(value: object) -> None:
    """Refuse lone surrogates anywhere (keys included). Iterative: the decoder already bounded the nesting."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise JSONRejected("a string holds a lone UTF-16 surrogate (not Unicode)") from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def decode(data: str | bytes) -> object:
    """The JSON value in ``data`` (UTF-8 bytes, an optional BOM, or text), or ``JSONRejected``."""
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8-sig")  # RFC 8259 section 8.1: parsers MAY ignore a BOM
        except UnicodeDecodeError as exc:
            raise JSONRejected(f"the body is not UTF-8 (byte {exc.start})") from None
    else:
        text = data
    try:
        value = _DECODER.decode(text)
    except JSONRejected:
        raise
    except json.JSONDecodeError as exc:
        raise JSONRejected(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise JSONRejected("JSON nested too deeply") from None
    except (ValueError, TypeError) as exc:  # defensive: anything else the decoder may raise on odd input
        raise JSONRejected(f"not valid JSON: {type(exc).__name__}") from None
    _check_strings(value)
    return value
