"""Meeting events as they travel on the bus (in-process or Redis) and are stored in the meeting's event log.

Every event carries the meeting's sequence number, assigned in the same transaction as the change it reports,
so a subscriber can detect gaps and fill them from the log. `audience` says who may see it:

- ``all``: every admitted participant;
- ``hosts``: the host and co-hosts, plus the participant the event is about (waiting-room traffic);
- ``subject``: only the participant the event is about (e.g. "the host asks you to unmute").

Two further narrowings apply on top of the audience: ``recipients`` (when set, only those participants — a
private chat message goes to its sender and recipient) and ``room_id`` (when set, only participants currently
in that breakout room, plus the host and co-hosts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    PARTICIPANT_WAITING = "PARTICIPANT_WAITING"
    PARTICIPANT_ADMITTED = "PARTICIPANT_ADMITTED"
    PARTICIPANT_DENIED = "PARTICIPANT_DENIED"
    PARTICIPANT_LEFT = "PARTICIPANT_LEFT"
    PARTICIPANT_REMOVED = "PARTICIPANT_REMOVED"
    PARTICIPANT_UPDATED = "PARTICIPANT_UPDATED"
    """Media state, name, hand or role changed; the snapshot says what it is now."""
    LOCAL_RECORDING_STARTED = "LOCAL_RECORDING_STARTED"
    """Someone started recording the meeting on their own device (everyone is told)."""
    LOCAL_RECORDING_STOPPED = "LOCAL_RECORDING_STOPPED"
    """They stopped, or the host withdrew the permission (the participant's snapshot says which)."""
    UNMUTE_REQUESTED = "UNMUTE_REQUESTED"
    ALL_MUTED = "ALL_MUTED"
    """One event for "mute all": ``data.participantIds`` lists who was muted."""
    HANDS_LOWERED = "HANDS_LOWERED"
    """``data.participantIds`` lists whose hands went down."""
    MEETING_UPDATED = "MEETING_UPDATED"
    """Lock, waiting room, spotlight, self-unmute permission, host or title changed."""
    MEETING_STARTED = "MEETING_STARTED"
    MEETING_ENDED = "MEETING_ENDED"
    ACTIVE_SPEAKER_CHANGED = "ACTIVE_SPEAKER_CHANGED"
    """Reported by the media edge: ``data.participantId`` is the dominant speaker now (None: silence)."""
    CAPTION = "CAPTION"
    """Live captions from the media edge: ``data`` holds ``participantId``, ``speakerName``, ``text`` and
    ``language`` (ISO 639-1, "" when unknown)."""

    # Chat (api/chat)
    CHAT_MESSAGE_SENT = "CHAT_MESSAGE_SENT"
    CHAT_MESSAGE_EDITED = "CHAT_MESSAGE_EDITED"
    CHAT_MESSAGE_DELETED = "CHAT_MESSAGE_DELETED"
    CHAT_REACTION_CHANGED = "CHAT_REACTION_CHANGED"
    # Ephemeral in-meeting reactions (applause etc.)
    REACTION_SENT = "REACTION_SENT"
    # Polls (api/polls)
    POLL_CREATED = "POLL_CREATED"
    POLL_UPDATED = "POLL_UPDATED"
    POLL_DELETED = "POLL_DELETED"
    POLL_LAUNCHED = "POLL_LAUNCHED"
    POLL_VOTES_UPDATED = "POLL_VOTES_UPDATED"
    POLL_ENDED = "POLL_ENDED"
    POLL_RESULTS_SHARED = "POLL_RESULTS_SHARED"
    # Recordings (api/recordings): ``data.recording`` is the recording's state after the change.
    RECORDING_STARTED = "RECORDING_STARTED"
    RECORDING_PAUSED = "RECORDING_PAUSED"
    RECORDING_RESUMED = "RECORDING_RESUMED"
    RECORDING_STOPPED = "RECORDING_STOPPED"
    RECORDING_UPDATED = "RECORDING_UPDATED"
    RECORDING_DELETED = "RECORDING_DELETED"
    RECORDING_PROCESSING = "RECORDING_PROCESSING"
    """Composition/transcription progress (``recording.progress`` percent)."""
    RECORDING_READY = "RECORDING_READY"
    RECORDING_FAILED = "RECORDING_FAILED"
    # Breakout rooms (api/breakouts)
    BREAKOUT_ROOMS_UPDATED = "BREAKOUT_ROOMS_UPDATED"
    BREAKOUT_ROOMS_OPENED = "BREAKOUT_ROOMS_OPENED"
    BREAKOUT_ROOMS_CLOSING = "BREAKOUT_ROOMS_CLOSING"
    BREAKOUT_ROOMS_CLOSED = "BREAKOUT_ROOMS_CLOSED"
    BREAKOUT_BROADCAST = "BREAKOUT_BROADCAST"
    BREAKOUT_HELP_REQUESTED = "BREAKOUT_HELP_REQUESTED"


class Audience(StrEnum):
    ALL = "all"
    HOSTS = "hosts"
    SUBJECT = "subject"


@dataclass(frozen=True, slots=True)
class MeetingEvent:
    meeting_id: str
    seq: int
    type: EventType
    audience: Audience
    at: float
    """Unix time (seconds) of the commit that produced it."""
    subject_id: str | None = None
    """The participant the event is about, if any."""
    actor_id: str | None = None
    """The participant who caused it (a host for host controls), if any."""
    participant: dict[str, Any] | None = None
    """Snapshot of the subject participant after the change."""
    meeting: dict[str, Any] | None = None
    """Snapshot of the meeting's live state after the change."""
    data: dict[str, Any] = field(default_factory=dict)
    recipients: tuple[str, ...] | None = None
    """When set, only these participants see the event (private messages)."""
    room_id: str | None = None
    """When set, only participants in this breakout room (and hosts) see the event."""

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "meeting_id": self.meeting_id,
            "seq": self.seq,
            "type": self.type.value,
            "audience": self.audience.value,
            "at": self.at,
            "subject_id": self.subject_id,
            "actor_id": self.actor_id,
            "participant": self.participant,
            "meeting": self.meeting,
            "data": self.data,
            "recipients": list(self.recipients) if self.recipients is not None else None,
            "room_id": self.room_id,
        }

    @classmethod
    def from_json(cls, raw: str | bytes) -> MeetingEvent:
        return cls.from_dict(json.loads(raw))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MeetingEvent:
        return cls(
            meeting_id=d["meeting_id"],
            seq=d["seq"],
            type=EventType(d["type"]),
            audience=Audience(d["audience"]),
            at=d["at"],
            subject_id=d.get("subject_id"),
            actor_id=d.get("actor_id"),
            participant=d.get("participant"),
            meeting=d.get("meeting"),
            data=d.get("data") or {},
            recipients=tuple(d["recipients"]) if d.get("recipients") is not None else None,
            room_id=d.get("room_id"),
        )


def meeting_channel(meeting_id: str) -> str:
    return f"meeting:{meeting_id}"
