"""One typed codec for every JSON message between our processes: signalling (client ⇄ edge), the control feed
(API ⇄ edge) and the relay's control stream (edge ⇄ edge).

A message is a frozen dataclass with a ``TYPE`` class variable; its fields' annotations are the schema. The wire
form is a JSON object: ``{"type": TYPE, <camelCase field>: value, …}``. Decoding checks every field against its
annotation and refuses anything else with the codec's error type and a message naming the field
(``"videoSize.width must be an integer 0..16384 (got -1)"``), safe to send back to the peer. Unknown keys are
ignored, so a newer peer can add fields; a missing field takes its default, or is an error if it has none.

Supported annotations: ``str``, ``int``, ``float``, ``bool``, ``X | None``, ``tuple[X, ...]``,
``Mapping[str, X]``, a nested dataclass, and ``Annotated[X, Check(...)]`` for bounds (length, range, choices,
item counts). Field metadata: ``wire`` (the key, when camelCase of the name is not it) and ``omit_empty``
(leave the key out when the value is empty or None, as older peers expect).

Standard library only: every package imports this.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, cast


class WireError(ValueError):
    """A frame is not a valid message; the text says why and is safe to send back."""


@dataclass(frozen=True, slots=True)
class Check:
    """Bounds for ``Annotated[...]``: string length, number range, allowed values, items in a list or map."""

    min_len: int | None = None
    max_len: int | None = None
    ge: float | None = None
    le: float | None = None
    choices: tuple[str, ...] | None = None
    max_items: int | None = None
    pattern: str | None = None
    """A regular expression the whole string must match."""
    noun: str | None = None
    """How a refusal names the expected shape ("an object keyed by mid"), where the type's name says too little."""


NON_EMPTY = Check(min_len=1)


class Message(Protocol):
    TYPE: ClassVar[str]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    key: str
    hint: Any
    default: Any
    omit_empty: bool


def _fields(cls: type) -> tuple[_Field, ...]:
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = _read_fields(cls)
    return found


_FIELDS: dict[type, tuple[_Field, ...]] = {}
"""Per message class, its fields as the codec sees them (annotations are resolved once per class)."""


def _read_fields(cls: type) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory
        else:
            default = dataclasses.MISSING
        key = f.metadata.get("wire", camel(f.name))
        out.append(_Field(f.name, key, hints[f.name], default, bool(f.metadata.get("omit_empty"))))
    return tuple(out)


# -- encoding ---------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _object(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _object(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in _fields(type(value)):
        v = getattr(value, f.name)
        if f.omit_empty and (v is None or v == () or v == {} or v == ""):
            continue
        out[f.key] = _plain(v)
    return out


def to_dict(msg: Any) -> dict[str, Any]:
    return {"type": msg.TYPE, **_object(msg)}


def encode(msg: Any) -> str:
    return json.dumps(to_dict(msg), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# -- decoding ---------------------------------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


class Codec:
    """Decodes the messages of one direction of one protocol (the classes given), raising ``error``."""

    def __init__(self, error: type[WireError], *classes: type[Any]) -> None:
        self.error = error
        self.classes = {cls.TYPE: cls for cls in classes}

    def decode(self, text: str | bytes) -> Any:
        obj = self.load(text)
        cls = self.classes.get(obj["type"])
        if cls is None:
            raise self.error(f"unknown message type {obj['type']!r}")
        return self._build(cls, obj, obj["type"])

    def load(self, text: str | bytes) -> dict[str, Any]:
        try:
            obj = json.loads(text, parse_constant=self._constant)
        except (ValueError, UnicodeDecodeError) as exc:
            if isinstance(exc, WireError):
                raise
            raise self.error(f"frame is not JSON: {exc}") from None
        except RecursionError:
            # json recurses per nesting level: a frame of 100,000 "[" must be refused, not crash the reader.
            raise self.error("frame is nested too deeply") from None
        if not isinstance(obj, dict):
            raise self.error(f"frame must be a JSON object (got {_type_name(obj)})")
        if not isinstance(obj.get("type"), str):
            raise self.error("frame has no string 'type'")
        return obj

    def _constant(self, name: str) -> Any:
        raise self.error(f"frame is not JSON: {name} is not a number")

    def _build(self, cls: type[Any], obj: Mapping[str, Any], where: str) -> Any:
        values: dict[str, Any] = {}
        for f in _fields(cls):
            if f.key in obj and not (obj[f.key] is None and f.default is None):
                values[f.name] = self._value(f.hint, obj[f.key], f"{where}.{f.key}")
            elif f.default is dataclasses.MISSING:
                values[f.name] = self._value(f.hint, None, f"{where}.{f.key}")  # says what was expected
            else:
                values[f.name] = f.default() if callable(f.default) else f.default
        return cls(**values)

    def _value(self, hint: Any, v: Any, where: str) -> Any:
        check: Check | None = None
        if typing.get_origin(hint) is typing.Annotated:
            hint, *extras = typing.get_args(hint)
            check = next((e for e in extras if isinstance(e, Check)), None)
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        err = self.error
        if origin in (types.UnionType, typing.Union):
            inner = [a for a in args if a is not type(None)]
            if v is None:
                return None
            try:
                return self._value(inner[0], v, where)
            except WireError:
                base = typing.get_args(inner[0])[0] if typing.get_origin(inner[0]) is typing.Annotated else inner[0]
                noun = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(base)
                if noun is None:
                    raise
                raise err(f"{where} must be {noun} or null (got {_type_name(v)})") from None
        if hint is str:
            if not isinstance(v, str):
                what = "a non-empty string" if check and check.min_len else "a string"
                raise err(f"{where} must be {what} (got {_type_name(v)})")
            if check:
                if check.choices is not None and v not in check.choices:
                    raise err(f"{where} must be one of {', '.join(check.choices)}")
                if check.min_len is not None and len(v) < check.min_len:
                    raise err(f"{where} must be a non-empty string")
                if check.max_len is not None and len(v) > check.max_len:
                    raise err(f"{where} must be at most {check.max_len} characters")
                if check.pattern is not None and not re.fullmatch(check.pattern, v):
                    raise err(f"{where} must be {check.noun or 'in the expected form'}")
            return v
        if hint is bool:
            if not isinstance(v, bool):
                raise err(f"{where} must be true or false")
            return v
        if hint is int:
            # bool is an int subclass in Python, but `true` is not a count.
            ok = isinstance(v, int) and not isinstance(v, bool)
            if check and (check.ge is not None or check.le is not None):
                low, high = check.ge, check.le
                if not ok or (low is not None and v < low) or (high is not None and v > high):
                    span = f"{low:g}..{high:g}" if low is not None and high is not None else f">= {low:g}"
                    raise err(f"{where} must be an integer {span} (got {v!r})")
            elif not ok:
                raise err(f"{where} must be an integer (got {_type_name(v)})")
            return v
        if hint is float:
            if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
                raise err(f"{where} must be a number (got {_type_name(v)})")
            if check and ((check.ge is not None and v < check.ge) or (check.le is not None and v > check.le)):
                raise err(f"{where} must be a number in {check.ge}..{check.le} (got {v!r})")
            return float(v)
        if origin is tuple:
            item = args[0]
            if not isinstance(v, list):
                raise err(f"{where} must be a list{_of(item)}")
            if check and check.max_items is not None and len(v) > check.max_items:
                raise err(f"{where} must hold at most {check.max_items} items")
            try:
                return tuple(self._value(item, x, f"{where}[{i}]") for i, x in enumerate(v))
            except WireError:
                if _of(item):
                    raise err(f"{where} must be a list{_of(item)}") from None
                raise
        if origin in (Mapping, dict):
            if not isinstance(v, dict):
                raise err(
                    f"{where} must be {check.noun if check and check.noun else 'an object'} (got {_type_name(v)})"
                )
            if check and check.max_items is not None and len(v) > check.max_items:
                raise err(f"{where} must hold at most {check.max_items} entries")
            return {k: self._value(args[1], x, f"{where}[{k!r}]") for k, x in v.items()}
        if dataclasses.is_dataclass(hint):
            if not isinstance(v, dict):
                raise err(f"{where} must be an object (got {_type_name(v)})")
            return self._build(cast(type, hint), v, where)
        raise TypeError(f"wire codec: unsupported annotation {hint!r} at {where}")  # a bug in a message class


def _of(item: Any) -> str:
    base = typing.get_args(item)[0] if typing.get_origin(item) is typing.Annotated else item
    return {str: " of strings", int: " of integers"}.get(base, "")


def codec(error: type[WireError], *classes: type[Any]) -> Callable[[str | bytes], Any]:
    """The decode function of a :class:`Codec` (a convenience for modules that expose ``parse_*`` functions)."""
    return Codec(error, *classes).decode
