"""What an edge must enforce in a meeting, and the edge's reports. No Litestar, no Strawberry.

The edge is told facts, not events: :class:`MeetingMedia` folds the meeting's bus events into "who is muted by a
host, who is removed, has it ended" and yields a control message only when one of those facts changes, so an
edge never sees chat or polls and a burst of unrelated events costs it nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from api.analytics import service as analytics
from api.db import Tx
from api.errors import NotFoundError
from api.services import Services
from dbschema.models import Meeting, Participant
from dbschema.recordings import Recording
from protocol.events import EventType
from protocol.events import MeetingEvent as BusEvent
from protocol.media_control import (
    ApiToEdge,
    MediaState,
    MeetingEnded,
    MeetingSize,
    ParticipantMedia,
    RecordingChanged,
    RoomRecording,
)

LIVE = ("admitted",)
OFF_MEDIA = ("removed", "waiting")
"""States whose join tokens an edge must refuse (told as ``removed``). Waiting counts: someone removed without
a block, or who left, can be back in the waiting room while the token from their earlier admission still
verifies for up to API_JOIN_TOKEN_TTL - and nobody waiting has media."""
_RECORDING_EVENTS = frozenset(
    {
        EventType.RECORDING_STARTED,
        EventType.RECORDING_PAUSED,
        EventType.RECORDING_RESUMED,
        EventType.RECORDING_STOPPED,
    }
)


@dataclass(slots=True)
class MeetingMedia:
    """One meeting's enforceable facts as of event ``seq``."""

    meeting_id: str
    seq: int
    ended: bool = False
    audio_blocked: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    recording_id: str | None = None
    """The main room's recording capturing now."""
    room_recordings: dict[str, str] = field(default_factory=dict)
    """Breakout room id → its recording capturing now."""
    admitted: set[str] = field(default_factory=set)
    """Who is in the meeting now (its size decides the edges' large-meeting audio rule)."""

    def snapshot(self) -> MediaState:
        blocked, removed = tuple(sorted(self.audio_blocked)), tuple(sorted(self.removed))
        rooms = tuple(RoomRecording(room, rec) for room, rec in sorted(self.room_recordings.items()))
        return MediaState(self.meeting_id, self.ended, blocked, removed, self.recording_id, len(self.admitted), rooms)

    def apply(self, ev: BusEvent) -> list[ApiToEdge]:
        """Fold ``ev`` in; returns the messages that tell an edge what changed (usually none)."""
        self.seq = ev.seq
        out: list[ApiToEdge] = []
        if ev.type is EventType.MEETING_ENDED or (ev.meeting and ev.meeting.get("status") == "ended"):
            if not self.ended:
                self.ended = True
                out.append(MeetingEnded(self.meeting_id))
            return out
        if ev.type is EventType.MEETING_STARTED and self.ended:
            self.ended = False  # the next occurrence of a recurring meeting
            return [self.snapshot()]
        if ev.type in _RECORDING_EVENTS:
            rec = ev.data["recording"]
            room = rec.get("breakoutRoomId")
            capturing = rec["id"] if rec["status"] == "recording" else None
            if room is None and capturing != self.recording_id:
                self.recording_id = capturing
                out.append(RecordingChanged(self.meeting_id, capturing))
            elif room is not None:
                held = self.room_recordings.get(room)
                if capturing is not None and capturing != held:
                    self.room_recordings[room] = capturing
                    out.append(RecordingChanged(self.meeting_id, capturing, room))
                elif capturing is None and held == rec["id"]:  # not an older recording of the room stopping late
                    del self.room_recordings[room]
                    out.append(RecordingChanged(self.meeting_id, None, room))
        if ev.participant is not None:
            p = ev.participant
            self._set(out, p["id"], blocked=bool(p.get("mutedByHost")), removed=p.get("state") in OFF_MEDIA)
            size = len(self.admitted)
            (self.admitted.add if p.get("state") == "admitted" else self.admitted.discard)(p["id"])
            if len(self.admitted) != size:
                out.append(MeetingSize(self.meeting_id, len(self.admitted)))
        if ev.type is EventType.ALL_MUTED:
            for pid in ev.data.get("participantIds", ()):
                self._set(out, pid, blocked=True, removed=pid in self.removed)
        return out

    def _set(self, out: list[ApiToEdge], pid: str, *, blocked: bool, removed: bool) -> None:
        if (pid in self.audio_blocked) == blocked and (pid in self.removed) == removed:
            return
        (self.audio_blocked.add if blocked else self.audio_blocked.discard)(pid)
        (self.removed.add if removed else self.removed.discard)(pid)
        out.append(ParticipantMedia(self.meeting_id, pid, blocked, removed))


async def load_media_state(svc: Services, meeting_id: str) -> MeetingMedia:
    """The meeting's facts from the database, with the sequence number of the last event they include."""
    async with svc.db.read() as session:
        m = await session.get(Meeting, meeting_id)
        if m is None:
            raise NotFoundError(f"meeting {meeting_id} does not exist")
        rows = await session.execute(
            select(Participant.id, Participant.state, Participant.muted_by_host).where(
                Participant.meeting_id == meeting_id, Participant.state.in_((*OFF_MEDIA, *LIVE))
            )
        )
        capturing = await session.execute(
            select(Recording.id, Recording.breakout_room_id).where(
                Recording.meeting_id == meeting_id, Recording.status == "recording"
            )
        )
        state = MeetingMedia(meeting_id, seq=m.event_seq, ended=m.status == "ended")
        for rec_id, room in capturing:
            if room is None:
                state.recording_id = rec_id
            else:
                state.room_recordings[room] = rec_id
        for pid, pstate, muted in rows:
            if pstate in OFF_MEDIA:
                state.removed.add(pid)
                continue
            state.admitted.add(pid)
            if muted:
                state.audio_blocked.add(pid)
        return state


async def report_dominant_speaker(svc: Services, meeting_id: str, participant_id: str | None) -> bool:
    """An edge saw the dominant speaker change: tell the meeting (``ACTIVE_SPEAKER_CHANGED``). False when the
    report is stale (meeting over, speaker no longer admitted) and was dropped - edges race with the API."""
    async with svc.db.write() as tx:
        m = await _meeting(tx, meeting_id)
        if m.status != "live":
            return False
        if participant_id is not None:
            p = await tx.session.get(Participant, participant_id)
            if p is None or p.meeting_id != meeting_id or p.state not in LIVE:
                return False
            room = p.breakout_room_id
        else:
            room = None
        await analytics.speaker_changed(tx, meeting_id, participant_id)
        await tx.emit(
            meeting_id,
            EventType.ACTIVE_SPEAKER_CHANGED,
            subject_id=participant_id,
            data={"participantId": participant_id},
            room_id=room,  # a breakout room's speaker matters to that room (and hosts) only
        )
        return True


async def report_caption(svc: Services, meeting_id: str, participant_id: str, text: str, language: str = "") -> bool:
    """An edge captioned what a participant said: tell the meeting (``CAPTION``, to the speaker's breakout room
    when it is in one). False when stale (meeting over, speaker gone)."""
    async with svc.db.write() as tx:
        m = await _meeting(tx, meeting_id)
        if m.status != "live":
            return False
        p = await tx.session.get(Participant, participant_id)
        if p is None or p.meeting_id != meeting_id or p.state not in LIVE:
            return False
        await tx.emit(
            meeting_id,
            EventType.CAPTION,
            subject_id=participant_id,
            data={"participantId": participant_id, "speakerName": p.display_name, "text": text, "language": language},
            room_id=p.breakout_room_id,
        )
        return True


async def _meeting(tx: Tx, meeting_id: str) -> Meeting:
    m = await tx.session.get(Meeting, meeting_id)
    if m is None:
        raise NotFoundError(f"meeting {meeting_id} does not exist")
    return m
