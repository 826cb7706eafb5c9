"""GraphQL types of recordings, built from `service.recording_snapshot` dicts so events and queries agree."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import strawberry

from api.events.types import Common, MeetingEvent, register
from api.recordings import service
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


@strawberry.type(description="One cloud recording of a meeting (one start-to-stop session, pauses excluded).")
class Recording:
    id: strawberry.ID
    meeting_id: strawberry.ID
    title: str
    status: RecordingStatus
    started_by_id: strawberry.ID | None = strawberry.field(description="Null when auto-recording started it.")
    started_at: datetime
    stopped_at: datetime | None
    recorded_seconds: float = strawberry.field(description="Meeting time captured, pauses excluded.")
    progress: int = strawberry.field(description="Processing percent once stopped.")
    error: str | None
    views: int

    @classmethod
    def from_snapshot(cls, s: dict[str, Any]) -> Recording:
        return cls(
            id=strawberry.ID(s["id"]),
            meeting_id=strawberry.ID(s["meetingId"]),
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
        )
    },
)
