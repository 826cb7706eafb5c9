"""Meeting events as they travel on the bus (in-process or Redis) and are stored in the meeting's event log.

Every event carries the meeting's sequence number, assigned in the same transaction as the change it reports,
so a subscriber can detect gaps and fill them from the log. `audience` says who may see it:

- ``all``: every admitted participant;
- ``hosts``: the host and co-hosts, plus the participant the event is about (waiting-room traffic);
- ``subject``: only the participant the event is about (e.g. "the host asks you to unmute").
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
    UNMUTE_REQUESTED = "UNMUTE_REQUESTED"
    ALL_MUTED = "ALL_MUTED"
    """One event for "mute all": ``data.participantIds`` lists who was muted."""
    HANDS_LOWERED = "HANDS_LOWERED"
    """``data.participantIds`` lists whose hands went down."""
    MEETING_UPDATED = "MEETING_UPDATED"
    """Lock, waiting room, spotlight, self-unmute permission, host or title changed."""
    MEETING_STARTED = "MEETING_STARTED"
    MEETING_ENDED = "MEETING_ENDED"


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
        )


def meeting_channel(meeting_id: str) -> str:
    return f"meeting:{meeting_id}"
