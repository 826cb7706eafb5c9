from __future__ import annotations

import json

import pytest

from protocol.media_control import (
    Caption,
    ControlMessageError,
    DominantSpeaker,
    FeedError,
    MediaState,
    MeetingEnded,
    MeetingSize,
    ParticipantMedia,
    RecordingChanged,
    RoomRecording,
    Unwatch,
    Watch,
    encode,
    parse_api_to_edge,
    parse_edge_to_api,
)

EDGE_TO_API = [
    Watch("m1"),
    Unwatch("m1"),
    DominantSpeaker("m1", "p1"),
    DominantSpeaker("m1", None),
    Caption("m1", "p1", "the quick brown fox <b>"),
    Caption("m1", "p1", "buenos días", "es"),
    Caption("m1", "p1", "bom dia", "pt-br"),
]
API_TO_EDGE = [
    MediaState("m1", False, ("p1", "p2"), ()),
    MediaState("m1", True, (), ("p3",)),
    MediaState("m1", False, (), (), "r1", 73),
    MediaState("m1", False, (), (), "r1", 3, (RoomRecording("b1", "r2"), RoomRecording("b2", "r3"))),
    MediaState("m1", False, (), (), None, 3, (RoomRecording("b1", "r2"),)),
    RecordingChanged("m1", "r1"),
    RecordingChanged("m1", None),
    RecordingChanged("m1", "r2", "b1"),
    RecordingChanged("m1", None, "b1"),
    MeetingSize("m1", 51),
    ParticipantMedia("m1", "p1", True, False),
    MeetingEnded("m1"),
    FeedError("NOT_FOUND", "meeting m9 does not exist"),
]


@pytest.mark.parametrize("msg", EDGE_TO_API, ids=repr)
def test_edge_messages_round_trip(msg: object) -> None:
    assert parse_edge_to_api(encode(msg)) == msg  # type: ignore[arg-type]


@pytest.mark.parametrize("msg", API_TO_EDGE, ids=repr)
def test_api_messages_round_trip(msg: object) -> None:
    assert parse_api_to_edge(encode(msg)) == msg  # type: ignore[arg-type]


def test_wire_form_is_camel_case() -> None:
    assert json.loads(encode(ParticipantMedia("m", "p", True, False))) == {
        "type": "participantMedia",
        "meetingId": "m",
        "participantId": "p",
        "audioBlocked": True,
        "removed": False,
    }


def test_main_room_recording_frames_keep_their_old_form() -> None:
    # The room is left out for the main room (and no breakout room list when none records): frames an edge from
    # before breakout rooms were recorded reads as it always did, and its frames read here as the main room's.
    assert json.loads(encode(RecordingChanged("m", "r"))) == {"type": "recording", "meetingId": "m", "recordingId": "r"}
    assert "roomRecordings" not in json.loads(encode(MediaState("m", False, (), (), "r", 2)))
    assert parse_api_to_edge('{"type": "recording", "meetingId": "m", "recordingId": "r"}') == RecordingChanged(
        "m", "r"
    )
    assert json.loads(encode(RecordingChanged("m", "r", "b"))) == {
        "type": "recording",
        "meetingId": "m",
        "recordingId": "r",
        "roomId": "b",
    }
    state = MediaState("m", False, (), (), None, 2, (RoomRecording("b", "r"),))
    assert json.loads(encode(state))["roomRecordings"] == [{"roomId": "b", "recordingId": "r"}]


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        ("{", "not JSON"),
        ("[]", "JSON object"),
        ('{"type": "watch"}', "watch.meetingId"),
        ('{"type": "watch", "meetingId": ""}', "non-empty"),
        ('{"type": "dominantSpeaker", "meetingId": "m", "participantId": 5}', "participantId"),
        ('{"type": "mediaState"}', "unknown message type"),  # an API message sent the wrong way
        ('{"type": "caption", "meetingId": "m", "participantId": "p", "text": ""}', "caption.text"),
        ('{"type": "caption", "meetingId": "m", "text": "hi"}', "caption.participantId"),
        ('{"type": "caption", "meetingId": "m", "participantId": "p", "text": "' + "a" * 501 + '"}', "at most 500"),
        ('{"type": "caption", "meetingId": "m", "participantId": "p", "text": "hi", "language": 5}', "language"),
        ('{"type": "caption", "meetingId": "m", "participantId": "p", "text": "hi", "language": "<b>"}', "ISO 639"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_bad_edge_frames_say_why(frame: str, why: str) -> None:
    with pytest.raises(ControlMessageError, match=why):
        parse_edge_to_api(frame)


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        ('{"type": "mediaState", "meetingId": "m", "ended": 1, "audioBlocked": [], "removed": []}', "true or false"),
        ('{"type": "mediaState", "meetingId": "m", "ended": false, "audioBlocked": [1], "removed": []}', "strings"),
        ('{"type": "watch", "meetingId": "m"}', "unknown message type"),
        ('{"type": "meetingSize", "meetingId": "m", "participants": -1}', "participants must be an integer >= 0"),
        ('{"type": "meetingSize", "meetingId": "m", "participants": true}', "participants must be an integer >= 0"),
        ('{"type": "meetingSize", "meetingId": "m"}', "participants must be an integer >= 0"),
        ('{"type": "recording", "meetingId": "m", "recordingId": "r", "roomId": ""}', "roomId"),
        (
            '{"type": "mediaState", "meetingId": "m", "ended": false, "audioBlocked": [], "removed": [], '
            '"roomRecordings": [{"roomId": "b"}]}',
            "recordingId",
        ),
    ],
)
def test_bad_api_frames_say_why(frame: str, why: str) -> None:
    with pytest.raises(ControlMessageError, match=why):
        parse_api_to_edge(frame)
