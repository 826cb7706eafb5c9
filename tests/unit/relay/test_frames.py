"""Relay wire format: every message round-trips, and bytes from a hostile or broken peer are refused with
:class:`FrameError` (the link then closes), never with another exception and never by buffering without bound."""

from __future__ import annotations

import json
from typing import Any

import pytest

from protocol.wire import camel
from relay.frames import (
    MAX_CONTROL_MESSAGE,
    Announce,
    Bye,
    ControlMessage,
    ControlReader,
    Estimate,
    FrameError,
    Hello,
    KeyFrameRequest,
    MediaHeader,
    Nack,
    Stats,
    Subscribe,
    Unsubscribe,
    Withdraw,
    decode_control,
    decode_media,
    decode_varint,
    encode_control,
    encode_media,
    encode_varint,
)

MESSAGES: list[ControlMessage] = [
    Hello("edge-a", "eu-west", "t.o.ken"),
    Announce(7, "m1", "p1", "track-1", "video", "camera", 3),
    Announce(0, "m1", "p2", "track-2", "audio", "microphone", origin="edge-a"),
    Withdraw(7),
    Subscribe(7, (0, 2)),
    Unsubscribe(7),
    KeyFrameRequest(7, 1),
    Nack(7, (1, 2, 65535)),
    Nack(7, (4,), layer=2),
    Estimate(7, 412_500.0),
    Announce(3, "m1", "p3", "track-3", "video", "camera", room="breakout-1"),
    Stats(12, 3450.5, 0.42),
    Bye("shutting down"),
]


@pytest.mark.parametrize("value", [0, 1, 63, 64, 16383, 16384, 2**30 - 1, 2**30, 2**62 - 1])
def test_varints_round_trip_at_every_size_boundary(value: int) -> None:
    data = encode_varint(value)
    assert len(data) == (1 if value < 2**6 else 2 if value < 2**14 else 4 if value < 2**30 else 8)
    assert decode_varint(data) == (value, len(data))
    assert decode_varint(data[:-1]) is None  # cut anywhere inside: "not yet", not a wrong value
    assert decode_varint(b"\x00" + data, 1) == (value, len(data) + 1)


def test_varints_outside_the_quic_range_are_refused() -> None:
    for bad in (-1, 2**62):
        with pytest.raises(ValueError):
            encode_varint(bad)


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda m: m.TYPE)
def test_every_control_message_round_trips_even_a_byte_at_a_time(msg: ControlMessage) -> None:
    data = encode_control(msg)
    reader = ControlReader()
    got = [m for i in range(len(data)) for m in reader.feed(data[i : i + 1])]
    assert got == [msg]


def test_several_messages_in_one_piece_come_out_in_order() -> None:
    reader = ControlReader()
    assert list(reader.feed(b"".join(encode_control(m) for m in MESSAGES))) == MESSAGES


def _body(**values: Any) -> bytes:
    values["type"] = values.pop("t")
    return json.dumps({camel(k): v for k, v in values.items()}).encode()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        _body(t="shout"),
        b'{"x": "hello"}',
        _body(t="withdraw"),  # no track
        _body(t="withdraw", track=-1),
        _body(t="withdraw", track=2**31),
        _body(t="withdraw", track=1.0),
        _body(t="withdraw", track=True),  # a bool is not a track number
        _body(t="withdraw", track="1"),
        _body(t="hello", edge_id=1, region="eu", token="x"),
        _body(t="hello", edge_id="a" * 5000, region="eu", token="x"),
        _body(
            t="announce",
            track=1,
            meeting_id="m",
            participant_id="p",
            track_id="t",
            kind="video",
            source="camera",
            layers=0,
        ),
        _body(
            t="announce",
            track=1,
            meeting_id="m",
            participant_id="p",
            track_id="t",
            kind="video",
            source="camera",
            layers=99,
        ),
        _body(t="subscribe", track=1, layers=[16]),
        _body(t="subscribe", track=1, layers="0"),
        _body(t="subscribe", track=1, layers=list(range(40))),
        _body(t="keyframe", track=1, layer=-1),
        _body(t="nack", track=1, seqs=[]),
        _body(t="nack", track=1, seqs=[70000]),
        _body(t="nack", track=1, seqs=list(range(300))),
        _body(t="stats", sessions=1, forwarded_pps=-1.0, cpu=0.1),
        b'{"type": "stats", "sessions": 1, "forwardedPps": NaN, "cpu": 0.1}',
        b'{"type": "stats", "sessions": 1, "forwardedPps": Infinity, "cpu": 0.1}',
        _body(t="stats", sessions=-3, forwarded_pps=1.0, cpu=0.1),
        _body(t="estimate", track=1, bitrate_bps=-1.0),
        _body(t="estimate", track=1, bitrate_bps=1e12),
        b'{"type": "estimate", "track": 1, "bitrateBps": NaN}',
        _body(t="estimate", track=1),
    ],
)
def test_malformed_control_messages_are_refused_with_a_frame_error(body: bytes) -> None:
    with pytest.raises(FrameError):
        decode_control(body)


def test_an_oversized_length_prefix_is_refused_before_anything_is_buffered() -> None:
    reader = ControlReader()
    with pytest.raises(FrameError, match="exceeds"):
        list(reader.feed(encode_varint(MAX_CONTROL_MESSAGE + 1)))


def test_subscribe_layers_are_normalised() -> None:
    assert decode_control(_body(t="subscribe", track=3, layers=[2, 0, 2])) == Subscribe(3, (0, 2))


@pytest.mark.parametrize("track", [0, 63, 64, 70_000, 2**30 - 1])
@pytest.mark.parametrize(
    "flags",
    [
        dict(layer=0),
        dict(layer=2, key=True),
        dict(layer=0, audio=True),
        dict(layer=1, rtcp=True),
        dict(layer=15, key=True, rtcp=True, audio=True),
    ],
)
def test_media_headers_round_trip(track: int, flags: dict[str, Any]) -> None:
    header = MediaHeader(track, **flags)
    packet = bytes(range(200))
    assert decode_media(encode_media(header, packet)) == (header, packet)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"\x20\x01rtp", b"\x00\xc0\x00", b"\x00\x40", b"\x00\x05", b"\x00\xc0" + b"\xff" * 7 + b"x"],
    ids=["empty", "flags only", "reserved bit", "cut varint", "cut 2-byte varint", "no packet", "huge track"],
)
def test_malformed_media_datagrams_are_refused(data: bytes) -> None:
    with pytest.raises(FrameError):
        decode_media(data)
