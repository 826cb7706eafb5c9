"""Bodies of /api/v1 (snake_case JSON). Built from the same snapshots events and GraphQL types use, so a field
means the same thing at every door."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, TypeVar

from api.errors import BadInputError
from api.meetings.invite import invite_link
from api.meetings.service import Access
from api.participants.views import participant_snapshot
from api.recordings.service import MediaLink, ShareLink, recording_snapshot
from api.services import Services
from dbschema.models import Meeting, Participant, User
from dbschema.recordings import Recording, TranscriptSegment

ChatPolicy = Literal["everyone", "host_only", "no_one"]
MeetingStatus = Literal["scheduled", "live", "ended", "cancelled"]
ParticipantState = Literal["waiting", "admitted", "left", "denied", "removed"]
Role = Literal["host", "cohost", "participant", "guest"]
RecordingStatus = Literal["recording", "paused", "stopped", "processing", "ready", "failed"]


def _at(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts is not None else None


# -- users -----------------------------------------------------------------------------------------------------


@dataclass
class UserOut:
    id: str
    email: str
    display_name: str
    created_at: datetime

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(id=u.id, email=u.email, display_name=u.display_name, created_at=u.created_at)


# -- meetings --------------------------------------------------------------------------------------------------


@dataclass
class MeetingSettingsIn:
    """Every field optional: what is left out keeps its current (or default) value."""

    waiting_room: bool | None = None
    join_before_host: bool | None = None
    mute_on_entry: bool | None = None
    allow_guests: bool | None = None
    allow_self_unmute: bool | None = None
    host_only_screen_share: bool | None = None
    max_participants: int | None = None
    """2..1000 (default 100)."""
    auto_record: bool | None = None
    chat_policy: ChatPolicy | None = None
    private_chat: bool | None = None
    guest_waiting_room: bool | None = None
    allow_local_recording: bool | None = None


@dataclass
class MeetingSettingsOut:
    waiting_room: bool
    join_before_host: bool
    mute_on_entry: bool
    allow_guests: bool
    allow_self_unmute: bool
    host_only_screen_share: bool
    max_participants: int
    auto_record: bool
    chat_policy: ChatPolicy
    private_chat: bool
    guest_waiting_room: bool
    allow_local_recording: bool


@dataclass
class MeetingCreate:
    title: str
    description: str | None = None
    starts_at: datetime | None = None
    """With a UTC offset. Leave out for an instant meeting."""
    duration_minutes: int | None = None
    timezone: str | None = None
    recurrence: str | None = None
    """RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10 (scheduled meetings only)."""
    passcode: str | None = None
    """Leave out for a generated one (instant meetings); empty for none."""
    settings: MeetingSettingsIn | None = None


@dataclass
class MeetingUpdate:
    title: str | None = None
    description: str | None = None
    starts_at: datetime | None = None
    duration_minutes: int | None = None
    timezone: str | None = None
    recurrence: str | None = None
    """Empty string removes the recurrence."""
    passcode: str | None = None
    """Empty string removes the passcode."""
    settings: MeetingSettingsIn | None = None


@dataclass
class MeetingOut:
    id: str
    number: str
    """The 11 digits people type to join."""
    title: str
    description: str
    kind: Literal["instant", "scheduled"]
    status: MeetingStatus
    starts_at: datetime
    duration_minutes: int
    timezone: str
    recurrence: str | None
    has_passcode: bool
    invite_link: str
    """The meeting's page; for a meeting with a passcode, with a key that stands in for it."""
    locked: bool
    started_at: datetime | None
    ended_at: datetime | None
    my_role: Role | None
    settings: MeetingSettingsOut

    @classmethod
    def of(cls, svc: Services, m: Meeting, role: str | None) -> MeetingOut:
        return cls(
            id=m.id,
            number=m.number,
            title=m.title,
            description=m.description,
            kind="instant" if m.kind == "instant" else "scheduled",
            status=m.status,  # type: ignore[arg-type]
            starts_at=m.starts_at,
            duration_minutes=m.duration_minutes,
            timezone=m.timezone,
            recurrence=m.recurrence,
            has_passcode=m.passcode_hash is not None,
            invite_link=invite_link(svc, m),
            locked=m.locked,
            started_at=m.started_at,
            ended_at=m.ended_at,
            my_role=role,  # type: ignore[arg-type]
            settings=MeetingSettingsOut(
                waiting_room=m.waiting_room,
                join_before_host=m.join_before_host,
                mute_on_entry=m.mute_on_entry,
                allow_guests=m.allow_guests,
                allow_self_unmute=m.allow_self_unmute,
                host_only_screen_share=m.host_only_screen_share,
                max_participants=m.max_participants,
                auto_record=m.auto_record,
                chat_policy=m.chat_policy,  # type: ignore[arg-type]
                private_chat=m.private_chat,
                guest_waiting_room=m.guest_waiting_room,
                allow_local_recording=m.allow_local_recording,
            ),
        )

    @classmethod
    def viewed(cls, svc: Services, a: Access) -> MeetingOut:
        return cls.of(svc, a.meeting, a.role.value if a.role else None)


@dataclass
class MeetingPage:
    items: list[MeetingOut]
    next_cursor: str | None = None
    """Pass as ``after`` for the next page; null on the last."""


# -- participants ----------------------------------------------------------------------------------------------


@dataclass
class ParticipantOut:
    id: str
    meeting_id: str
    user_id: str | None
    display_name: str
    role: Role
    state: ParticipantState
    waiting_reason: str | None
    audio_muted: bool
    video_on: bool
    sharing: bool
    hand_raised_at: datetime | None
    joined_at: datetime | None

    @classmethod
    def of(cls, p: Participant) -> ParticipantOut:
        s = participant_snapshot(p)
        return cls(
            id=s["id"],
            meeting_id=s["meetingId"],
            user_id=s["userId"],
            display_name=s["displayName"],
            role=s["role"],
            state=s["state"],
            waiting_reason=s["waitingReason"],
            audio_muted=s["audioMuted"],
            video_on=s["videoOn"],
            sharing=s["sharing"],
            hand_raised_at=_at(s["handRaisedAt"]),
            joined_at=_at(s["joinedAt"]),
        )


@dataclass
class ParticipantPage:
    items: list[ParticipantOut]
    next_cursor: str | None = None


# -- recordings ------------------------------------------------------------------------------------------------


@dataclass
class RecordingOut:
    id: str
    meeting_id: str
    title: str
    status: RecordingStatus
    started_at: datetime
    stopped_at: datetime | None
    recorded_seconds: float
    progress: int
    error: str | None
    views: int
    breakout_room_id: str | None = None
    breakout_room_name: str | None = None

    @classmethod
    def of(cls, r: Recording) -> RecordingOut:
        s = recording_snapshot(r)
        started = _at(s["startedAt"])
        assert started is not None
        return cls(
            id=s["id"],
            meeting_id=s["meetingId"],
            title=s["title"],
            status=s["status"],
            started_at=started,
            stopped_at=_at(s["stoppedAt"]),
            recorded_seconds=s["recordedSeconds"],
            progress=s["progress"],
            error=s["error"],
            views=s["views"],
            breakout_room_id=s["breakoutRoomId"],
            breakout_room_name=s["breakoutRoomName"],
        )


@dataclass
class RecordingPage:
    items: list[RecordingOut]
    next_cursor: str | None = None


@dataclass
class DownloadLink:
    name: str
    """recording.mp4, audio.m4a, captions.vtt, transcript.srt or poster.jpg."""
    content_type: str
    size: int
    url: str
    """Signed; valid for a limited time (fetch the links again for fresh ones)."""

    @classmethod
    def of(cls, link: MediaLink) -> DownloadLink:
        return cls(name=link.name, content_type=link.content_type, size=link.size, url=link.url)


@dataclass
class DownloadLinks:
    items: list[DownloadLink] = field(default_factory=list)


@dataclass
class ShareCreate:
    expires_in_hours: int = 168
    """1..8760."""
    passcode: str | None = None


@dataclass
class ShareOut:
    id: str
    recording_id: str
    url: str
    expires_at: datetime
    passcode_protected: bool

    @classmethod
    def of(cls, s: ShareLink) -> ShareOut:
        return cls(
            id=s.id,
            recording_id=s.recording_id,
            url=s.url,
            expires_at=s.expires_at,
            passcode_protected=s.passcode_protected,
        )


@dataclass
class TranscriptLineOut:
    start_s: float
    end_s: float
    speaker_id: str | None
    speaker_name: str
    text: str
    language: str | None

    @classmethod
    def of(cls, s: TranscriptSegment) -> TranscriptLineOut:
        return cls(
            start_s=s.start_s,
            end_s=s.end_s,
            speaker_id=s.participant_id,
            speaker_name=s.speaker_name,
            text=s.text,
            language=s.language,
        )


@dataclass
class Transcript:
    recording_id: str
    lines: list[TranscriptLineOut]


# -- cursor pagination over a list the service returned whole ------------------------------------------------

T = TypeVar("T")


def page(items: Sequence[T], id_of: Callable[[T], str], first: int, after: str | None) -> tuple[list[T], str | None]:
    """``first`` items after the one the cursor names (cursors are the item's id, opaque to clients). The lists
    paged this way are bounded by the domain (a meeting's participants, its recordings)."""
    start = 0
    if after:
        try:
            last = base64.urlsafe_b64decode(after.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            raise BadInputError("after", "after is not a cursor returned by this API") from None
        ids = [id_of(i) for i in items]
        if last not in ids:
            raise BadInputError("after", "after is not a cursor returned by this API (or its item is gone)")
        start = ids.index(last) + 1
    chunk = list(items[start : start + first])
    more = start + first < len(items)
    return chunk, (base64.urlsafe_b64encode(id_of(chunk[-1]).encode()).decode() if more and chunk else None)
