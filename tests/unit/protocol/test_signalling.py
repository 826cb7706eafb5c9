"""Signalling messages: wire form, round trips, refusal of malformed frames, the close-code table."""

from __future__ import annotations

import json

import pytest

from protocol.errors import ErrorCode
from protocol.signalling import (
    MAX_CLOSE_REASON_BYTES,
    Answer,
    Candidate,
    ClientMessage,
    CloseCode,
    EdgeMessage,
    Error,
    Join,
    Joined,
    Leave,
    Offer,
    SignallingMessageError,
    TrackInfo,
    Tracks,
    VideoSize,
    bad_input,
    close_reason,
    encode,
    parse_client_message,
    parse_edge_message,
    to_dict,
)

CLIENT: list[ClientMessage] = [
    Join(token="t.o.k"),
    Leave(),
    Offer(sdp="v=0\r\n"),
    Answer(sdp="v=0\r\n"),
    Candidate(candidate="candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host", sdp_mid="0", sdp_mline_index=0),
    Candidate(candidate=""),
    VideoSize(mid="4", width=640, height=360),
    VideoSize(mid="4", width=0, height=0),
]
EDGE: list[EdgeMessage] = [
    Joined(participant_id="p1", meeting_id="m1", role="host", publish=("audio", "video")),
    Offer(sdp="v=0\r\n"),
    Answer(sdp="v=0\r\n"),
    Candidate(candidate="c", sdp_mid=None, sdp_mline_index=1),
    Error(code="BAD_INPUT", message="nope"),
    Tracks(tracks={"4": TrackInfo(source="camera", participant_id="p2")}),
    Tracks(),
]


@pytest.mark.parametrize("msg", CLIENT, ids=lambda m: type(m).__name__)
def test_client_messages_round_trip(msg: ClientMessage) -> None:
    assert parse_client_message(encode(msg)) == msg


@pytest.mark.parametrize("msg", EDGE, ids=lambda m: type(m).__name__)
def test_edge_messages_round_trip(msg: EdgeMessage) -> None:
    assert parse_edge_message(encode(msg)) == msg


def test_wire_form_is_camel_case_with_a_type() -> None:
    assert to_dict(Joined(participant_id="p", meeting_id="m", role="guest", publish=("audio",))) == {
        "type": "joined",
        "participantId": "p",
        "meetingId": "m",
        "role": "guest",
        "publish": ["audio"],
    }
    assert to_dict(Candidate(candidate="c", sdp_mid="0", sdp_mline_index=2)) == {
        "type": "candidate",
        "candidate": "c",
        "sdpMid": "0",
        "sdpMLineIndex": 2,
    }
    assert json.loads(encode(Leave())) == {"type": "leave"}
    assert to_dict(bad_input("x")) == {"type": "error", "code": ErrorCode.BAD_INPUT.value, "message": "x"}


def test_unknown_keys_are_ignored() -> None:
    assert parse_client_message('{"type":"join","token":"t","client":"sdk/2"}') == Join(token="t")


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        ("", "not JSON"),
        ("{nope", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        ("[1,2]", "must be a JSON object"),
        ('"join"', "must be a JSON object"),
        ("{}", "no string 'type'"),
        ('{"type": 7}', "no string 'type'"),
        ('{"type":"dance"}', "unknown message type 'dance'"),
        ('{"type":"joined","participantId":"p"}', "unknown message type 'joined'"),
        ('{"type":"join"}', "join.token must be a string"),
        ('{"type":"join","token":5}', "join.token must be a string"),
        ('{"type":"offer","sdp":null}', "offer.sdp must be a string"),
        ('{"type":"candidate","candidate":"c","sdpMLineIndex":true}', "sdpMLineIndex must be an integer"),
        ('{"type":"candidate","candidate":"c","sdpMid":1}', "sdpMid must be a string or null"),
        ("[" * 100_000, "nested too deeply"),
        ('{"type":"videoSize","width":1,"height":1}', "videoSize.mid must be a string"),
        (
            '{"type":"videoSize","mid":"1","width":-1,"height":1}',
            r"videoSize.width must be an integer 0..16384 \(got -1\)",
        ),
        ('{"type":"videoSize","mid":"1","width":1,"height":99999}', r"videoSize.height must be an integer 0..16384"),
        ('{"type":"videoSize","mid":"1","width":1.5,"height":1}', "videoSize.width must be an integer"),
        ('{"type":"videoSize","mid":"1","height":1}', "videoSize.width must be an integer"),
    ],
)
def test_malformed_client_frames_are_refused_with_a_reason(frame: str | bytes, why: str) -> None:
    with pytest.raises(SignallingMessageError, match=why):
        parse_client_message(frame)


def test_malformed_edge_frames_are_refused() -> None:
    with pytest.raises(SignallingMessageError, match="publish must be a list of strings"):
        parse_edge_message('{"type":"joined","participantId":"p","meetingId":"m","role":"r","publish":[1]}')
    with pytest.raises(SignallingMessageError, match="unknown message type 'join'"):
        parse_edge_message('{"type":"join","token":"t"}')


def test_close_codes_are_unique_and_in_the_allowed_ranges() -> None:
    values = [c.value for c in CloseCode]
    assert len(values) == len(set(values))
    # RFC 6455 section 7.4: 1000-2999 defined by the protocol, 4000-4999 private to applications.
    assert all(1000 <= v <= 1015 or 4000 <= v <= 4999 for v in values)
    assert CloseCode.UNAUTHENTICATED.value == 4401
    assert CloseCode.FORBIDDEN.value == 4403
    assert CloseCode.JOIN_TIMEOUT.value == 4408
    assert CloseCode.REPLACED.value == 4409


def test_every_close_code_is_documented_in_the_module_table() -> None:
    import protocol.signalling as module

    doc = module.__doc__ or ""
    for code in CloseCode:
        assert f"{code.value} {code.name}" in doc


def test_close_reason_fits_a_control_frame_without_splitting_characters() -> None:
    assert close_reason("short") == "short"
    long = "é" * 200
    cut = close_reason(long)
    assert len(cut.encode()) <= MAX_CLOSE_REASON_BYTES
    assert cut.endswith("...")
