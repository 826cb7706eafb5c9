"""How bus events fold into the facts an edge enforces (api.media.service.MeetingMedia)."""

from __future__ import annotations

from typing import Any

from api.media.service import MeetingMedia
from protocol.events import Audience, EventType, MeetingEvent
from protocol.media_control import (
    MediaState,
    MeetingEnded,
    MeetingSize,
    ParticipantMedia,
    RecordingChanged,
    RoomRecording,
)


def event(seq: int, type: EventType, participant: dict[str, Any] | None = None, **kw: Any) -> MeetingEvent:
    return MeetingEvent("m", seq, type, Audience.ALL, 0.0, participant=participant, **kw)


def p(pid: str, state: str = "admitted", muted_by_host: bool = False) -> dict[str, Any]:
    return {"id": pid, "state": state, "mutedByHost": muted_by_host, "audioMuted": muted_by_host}


def test_only_changes_of_enforced_facts_produce_messages() -> None:
    s = MeetingMedia("m", seq=3)
    assert s.apply(event(4, EventType.PARTICIPANT_ADMITTED, p("a"))) == [MeetingSize("m", 1)]
    assert s.apply(event(5, EventType.CHAT_MESSAGE_SENT, data={"message": {}})) == []
    assert s.apply(event(6, EventType.PARTICIPANT_UPDATED, p("a", muted_by_host=True))) == [
        ParticipantMedia("m", "a", True, False)
    ]
    # The same fact again (e.g. a rename while muted) says nothing new.
    assert s.apply(event(7, EventType.PARTICIPANT_UPDATED, p("a", muted_by_host=True))) == []
    assert s.apply(event(8, EventType.PARTICIPANT_REMOVED, p("a", state="removed", muted_by_host=True))) == [
        ParticipantMedia("m", "a", True, True),
        MeetingSize("m", 0),
    ]
    assert s.seq == 8
    assert s.snapshot() == MediaState("m", False, ("a",), ("a",))


def test_mute_all_blocks_everyone_it_names() -> None:
    s = MeetingMedia("m", seq=0, removed={"c"})
    out = s.apply(event(1, EventType.ALL_MUTED, data={"participantIds": ["a", "b", "c"]}))
    assert out == [
        ParticipantMedia("m", "a", True, False),
        ParticipantMedia("m", "b", True, False),
        ParticipantMedia("m", "c", True, True),
    ]


def test_the_end_is_said_once() -> None:
    s = MeetingMedia("m", seq=0)
    assert s.apply(event(1, EventType.MEETING_ENDED, meeting={"status": "ended"})) == [MeetingEnded("m")]
    assert s.apply(event(2, EventType.MEETING_UPDATED, meeting={"status": "ended"})) == []
    assert s.snapshot().ended


def test_the_meeting_size_counts_admitted_participants_only() -> None:
    s = MeetingMedia("m", seq=0)
    # Waiting is off the media plane (a token from an earlier admission must not work): told as removed.
    assert s.apply(event(1, EventType.PARTICIPANT_WAITING, p("a", state="waiting"))) == [
        ParticipantMedia("m", "a", False, True)
    ]
    assert s.apply(event(2, EventType.PARTICIPANT_ADMITTED, p("a"))) == [
        ParticipantMedia("m", "a", False, False),
        MeetingSize("m", 1),
    ]
    assert s.apply(event(3, EventType.PARTICIPANT_ADMITTED, p("b"))) == [MeetingSize("m", 2)]
    assert s.apply(event(4, EventType.PARTICIPANT_UPDATED, p("b"))) == []  # still in: no news
    assert s.snapshot().participants == 2
    assert s.apply(event(5, EventType.PARTICIPANT_LEFT, p("a", state="left"))) == [MeetingSize("m", 1)]
    assert s.snapshot() == MediaState("m", False, (), (), None, 1)


def rec(rid: str, status: str, room: str | None = None) -> dict[str, Any]:
    return {"recording": {"id": rid, "status": status, "breakoutRoomId": room}}


def test_each_room_records_into_its_own_recording() -> None:
    s = MeetingMedia("m", seq=0)
    assert s.apply(event(1, EventType.RECORDING_STARTED, data=rec("r1", "recording"))) == [RecordingChanged("m", "r1")]
    assert s.apply(event(2, EventType.RECORDING_STARTED, data=rec("r2", "recording", "b1"))) == [
        RecordingChanged("m", "r2", "b1")
    ]
    assert s.apply(event(3, EventType.RECORDING_STARTED, data=rec("r3", "paused", "b2"))) == []  # not capturing
    assert s.snapshot() == MediaState("m", False, (), (), "r1", 0, (RoomRecording("b1", "r2"),))
    assert s.apply(event(4, EventType.RECORDING_PAUSED, data=rec("r2", "paused", "b1"))) == [
        RecordingChanged("m", None, "b1")
    ]
    assert s.apply(event(5, EventType.RECORDING_RESUMED, data=rec("r2", "recording", "b1"))) == [
        RecordingChanged("m", "r2", "b1")
    ]
    # The room's recording stopped and a new one started (the rooms closed and opened again): an event about the
    # old one arriving after the new one's start changes nothing.
    assert s.apply(event(6, EventType.RECORDING_STARTED, data=rec("r4", "recording", "b1"))) == [
        RecordingChanged("m", "r4", "b1")
    ]
    assert s.apply(event(7, EventType.RECORDING_STOPPED, data=rec("r2", "stopped", "b1"))) == []
    assert s.apply(event(8, EventType.RECORDING_STOPPED, data=rec("r4", "stopped", "b1"))) == [
        RecordingChanged("m", None, "b1")
    ]
    assert s.snapshot() == MediaState("m", False, (), (), "r1", 0)
    # The main room's recording is unaffected by the rooms' and stops on its own event.
    assert s.apply(event(9, EventType.RECORDING_STOPPED, data=rec("r1", "stopped"))) == [RecordingChanged("m", None)]
