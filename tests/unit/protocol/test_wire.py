"""The one wire codec: typed decoding with bounds, and a fuzz over every message class of every protocol that
may only ever end in the message or the protocol's own error (never another exception, never a half-checked
value)."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

import pytest

from protocol import media_control, signalling, wire
from protocol.wire import NON_EMPTY, Check, WireError
from relay import frames


class Oops(WireError):
    pass


@dataclass(frozen=True, slots=True)
class Point:
    x: Annotated[int, Check(ge=-10, le=10)]
    label: str | None = field(default=None, metadata={"omit_empty": True})


@dataclass(frozen=True, slots=True)
class Shape:
    TYPE: ClassVar[str] = "shape"
    name: Annotated[str, NON_EMPTY]
    points: Annotated[tuple[Point, ...], Check(max_items=3)] = ()
    tags: Mapping[str, Annotated[str, Check(choices=("a", "b"))]] = field(default_factory=dict)
    weight: float = 1.0
    mline: int | None = field(default=None, metadata={"wire": "mLine"})


SHAPES = wire.Codec(Oops, Shape)


def test_round_trip_nested_and_renamed() -> None:
    s = Shape("tri", (Point(1), Point(-2, "p")), {"k": "a"}, 2.5, 3)
    text = wire.encode(s)
    assert json.loads(text) == {
        "type": "shape",
        "name": "tri",
        "points": [{"x": 1}, {"x": -2, "label": "p"}],
        "tags": {"k": "a"},
        "weight": 2.5,
        "mLine": 3,
    }
    assert SHAPES.decode(text) == s


def test_defaults_fill_missing_keys_and_unknown_keys_are_ignored() -> None:
    assert SHAPES.decode('{"type":"shape","name":"n","future":1}') == Shape("n")


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        ('{"type":"shape"}', "shape.name must be a non-empty string"),
        ('{"type":"shape","name":""}', "non-empty"),
        ('{"type":"shape","name":"n","points":[{"x":11}]}', r"shape.points\[0\].x must be an integer -10..10"),
        ('{"type":"shape","name":"n","points":[{"x":1}, {"x":1}, {"x":1}, {"x":1}]}', "at most 3"),
        ('{"type":"shape","name":"n","points":{"x":1}}', "points must be a list"),
        ('{"type":"shape","name":"n","tags":{"k":"c"}}', r"tags\['k'\] must be one of a, b"),
        ('{"type":"shape","name":"n","weight":"heavy"}', "weight must be a number"),
        ('{"type":"shape","name":"n","weight":NaN}', "not a number"),
        ('{"type":"shape","name":"n","weight":true}', "weight must be a number"),
        ('{"type":"shape","name":"n","mLine":1.0}', "mLine must be an integer or null"),
        ('{"type":"circle"}', "unknown message type 'circle'"),
        ("[" * 50_000, "nested too deeply"),
    ],
)
def test_refusals_name_the_field_and_the_rule(frame: str, why: str) -> None:
    with pytest.raises(Oops, match=why):
        SHAPES.decode(frame)


def test_an_unsupported_annotation_is_a_bug_caught_at_the_first_decode() -> None:
    @dataclass(frozen=True)
    class Odd:
        TYPE: ClassVar[str] = "odd"
        when: set[int]

    with pytest.raises(TypeError, match="unsupported annotation"):
        wire.Codec(Oops, Odd).decode('{"type":"odd","when":[1]}')


CODECS: list[tuple[wire.Codec, tuple[type[Any], ...]]] = [
    (signalling._client, tuple(signalling._client.classes.values())),
    (signalling._edge, tuple(signalling._edge.classes.values())),
    (media_control._from_edge, tuple(media_control._from_edge.classes.values())),
    (media_control._from_api, tuple(media_control._from_api.classes.values())),
    (frames._CONTROL, tuple(frames._CONTROL.classes.values())),
]
JUNK: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2**70,
    1.5,
    -0.0,
    1e308,
    "",
    "x",
    "é" * 300,
    [],
    [1],
    ["a"],
    [None],
    {},
    {"source": "camera"},
    {"a": {"b": []}},
    [[[]]],
    "camera",
    16384,
    16385,
]


def _junk_message(rng: random.Random, cls: type[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": cls.TYPE}
    for f in dataclasses.fields(cls):
        key = f.metadata.get("wire", wire.camel(f.name))
        if rng.random() < 0.85:
            out[key] = rng.choice(JUNK)
    return out


@pytest.mark.parametrize("index", range(len(CODECS)))
def test_fuzzed_frames_end_in_a_message_or_the_protocols_error(index: int) -> None:
    codec, classes = CODECS[index]
    rng = random.Random(index)
    decoded = refused = 0
    for _ in range(3000):  # bounded
        cls = rng.choice(classes)
        frame = json.dumps(_junk_message(rng, cls))
        try:
            msg = codec.decode(frame)
        except WireError as exc:
            assert isinstance(exc, codec.error)
            refused += 1
            continue
        assert isinstance(msg, cls)
        assert codec.decode(wire.encode(msg)) == msg  # what decoded re-encodes to the same message
        decoded += 1
    assert refused > 0, "the junk never hit a rule"
