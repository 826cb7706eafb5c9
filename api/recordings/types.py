"""GraphQL types of recordings, built from `service.recording_snapshot` dicts so events and queries agree."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import strawberry

from api.chat.types import HighlightSegment
from api.events.types import Common, MeetingEvent, register
from api.graphql.context import ctx
from api.recordings import service, transcripts
from protocol.events import EventType
from protocol.events import MeetingEvent as BusEvent


@strawberry.enum(description="RECORDING and PAUSED while the meeting is captured; the rest once it stopped.")
class RecordingStatus(Enum):
    RECORDING = "recording"
    PAUSED = "paused"
    STOPPED = "stopped"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


def _time(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts is not None else None


@strawberry.type(description="One file of a recording, with a signed URL that plays it (Range requests seek).")
class RecordingMedia:
    name: str = strawberry.field(description="recording.mp4, audio.m4a, captions.vtt, transcript.srt or poster.jpg")
    content_type: str
    size: int
    url: str = strawberry.field(description="Valid for 6 hours; fetch the recording again for a fresh one.")


@strawberry.type(description="One line of a speaker-labelled transcript.")
class TranscriptLine:
    start: float = strawberry.field(description="Seconds from the recording's start.")
    end: float
    speaker_id: strawberry.ID | None = strawberry.field(description="The participant speaking, if known.")
    speaker_name: str
    text: str
    language: str | None = strawberry.field(
        description="ISO 639-1 code the line was transcribed in (detected per speaker, or the deployment's "
        "configured language); null for transcripts made before languages were recorded (those are English)."
    )

    @classmethod
    def of(cls, s: Any) -> TranscriptLine:
        pid = s.participant_id
        return cls(
            start=s.start_s,
            end=s.end_s,
            speaker_id=strawberry.ID(pid) if pid else None,
            speaker_name=s.speaker_name,
            text=s.text,
            language=s.language,
        )


@strawberry.type(description="The breakout room a recording holds, as it was named when it was recorded.")
class RecordedBreakoutRoom:
    id: strawberry.ID = strawberry.field(description="The room's id (the room itself may have been deleted since).")
    name: str


@strawberry.type(
    description="One cloud recording of a meeting's main room or of one of its breakout rooms (one start-to-stop "
    "session, pauses excluded). A recording never mixes rooms: while breakout rooms are open, the main room's "
    "recording holds the main room only and each occupied breakout room is recorded on its own."
)
class Recording:
    id: strawberry.ID
    meeting_id: strawberry.ID
    breakout_room: RecordedBreakoutRoom | None = strawberry.field(
        description="The breakout room this recording holds; null for the meeting's main room."
    )
    title: str
    status: RecordingStatus
    started_by_id: strawberry.ID | None = strawberry.field(description="Null when auto-recording started it.")
    started_at: datetime
    stopped_at: datetime | None
    recorded_seconds: float = strawberry.field(description="Meeting time captured, pauses excluded.")
    progress: int = strawberry.field(description="Processing percent once stopped.")
    error: str | None
    views: int
    via_share: strawberry.Private[bool] = False
    """Reached through a valid share link (`sharedRecording`): its holder may read the transcript too."""

    @classmethod
    def from_snapshot(cls, s: dict[str, Any]) -> Recording:
        return cls(
            id=strawberry.ID(s["id"]),
            meeting_id=strawberry.ID(s["meetingId"]),
            breakout_room=(
                RecordedBreakoutRoom(id=strawberry.ID(s["breakoutRoomId"]), name=s["breakoutRoomName"] or "")
                if s.get("breakoutRoomId")
                else None
            ),
            title=s["title"],
            status=RecordingStatus(s["status"]),
            started_by_id=strawberry.ID(s["startedBy"]) if s["startedBy"] else None,
            started_at=datetime.fromtimestamp(s["startedAt"], UTC),
            stopped_at=_time(s["stoppedAt"]),
            recorded_seconds=s["recordedSeconds"],
            progress=s["progress"],
            error=s["error"],
            views=s["views"],
        )

    @strawberry.field(description="The transcript, in time order (empty until transcription ran).")
    async def transcript(self, info: strawberry.Info) -> list[TranscriptLine]:
        c = ctx(info)
        if self.via_share:
            return [TranscriptLine.of(s) for s in await transcripts.read_shared(c.services, str(self.id))]
        return [TranscriptLine.of(s) for s in await transcripts.read(c.services, c.principal, str(self.id))]

    @strawberry.field(description="The files that exist so far (none until processing produced them).")
    def media(self, info: strawberry.Info) -> list[RecordingMedia]:
        return [
            RecordingMedia(name=f.name, content_type=f.content_type, size=f.size, url=f.url)
            for f in service.media_links(ctx(info).services, str(self.id))
        ]

    @classmethod
    def of(cls, r: Any) -> Recording:
        return cls.from_snapshot(service.recording_snapshot(r))


@strawberry.type(description="A link that lets anyone holding it watch the recording until it expires.")
class RecordingShareLink:
    id: strawberry.ID
    recording_id: strawberry.ID
    url: str
    expires_at: datetime
    passcode_protected: bool


@strawberry.type(
    description="A recording started, paused, resumed, stopped, was renamed or deleted; `recording` is its state "
    "after the change (before it, for a deletion). Clients show a recording indicator while one is RECORDING."
)
class RecordingEvent(MeetingEvent):
    recording: Recording


def _event(ev: BusEvent, c: Common) -> RecordingEvent:
    return RecordingEvent(**c, recording=Recording.from_snapshot(ev.data["recording"]))


register(
    [RecordingEvent],
    {
        t: _event
        for t in (
            EventType.RECORDING_STARTED,
            EventType.RECORDING_PAUSED,
            EventType.RECORDING_RESUMED,
            EventType.RECORDING_STOPPED,
            EventType.RECORDING_UPDATED,
            EventType.RECORDING_DELETED,
            EventType.RECORDING_PROCESSING,
            EventType.RECORDING_READY,
            EventType.RECORDING_FAILED,
        )
    },
)


@strawberry.type
class TranscriptSearchHit:
    recording_id: strawberry.ID
    meeting_id: strawberry.ID
    meeting_title: str
    line: TranscriptLine
    rank: float = strawberry.field(description="Higher is better; comparable within one result list only.")
    highlight: list[HighlightSegment] = strawberry.field(
        description="An excerpt of the line around the matches, as plain-text segments (render `match` ones marked)."
    )
