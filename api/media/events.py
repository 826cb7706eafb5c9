"""GraphQL shape of the media edge's reports, registered with `api.events.types` at import (by the schema)."""

from __future__ import annotations

import strawberry

from api.events.types import Common, MeetingEvent, register
from protocol.events import EventType
from protocol.events import MeetingEvent as BusEvent


@strawberry.type(
    description="The media edge heard a new dominant speaker (null: nobody is speaking). Clients highlight it."
)
class ActiveSpeakerEvent(MeetingEvent):
    participant_id: strawberry.ID | None


def _speaker(ev: BusEvent, c: Common) -> ActiveSpeakerEvent:
    pid = ev.data.get("participantId")
    return ActiveSpeakerEvent(**c, participant_id=strawberry.ID(pid) if pid else None)


@strawberry.type(description="A line of live captions: what a participant just said, as the media edge heard it.")
class CaptionEvent(MeetingEvent):
    participant_id: strawberry.ID
    speaker_name: str
    text: str
    language: str | None = strawberry.field(
        description="ISO 639-1 code the line was decoded in (the edge's configured language, or detected); "
        "null when the edge did not say."
    )


def _caption(ev: BusEvent, c: Common) -> CaptionEvent:
    d = ev.data
    return CaptionEvent(
        **c,
        participant_id=strawberry.ID(str(d.get("participantId", ""))),
        speaker_name=str(d.get("speakerName", "")),
        text=str(d.get("text", "")),
        language=str(d.get("language") or "") or None,
    )


register(
    [ActiveSpeakerEvent, CaptionEvent],
    {EventType.ACTIVE_SPEAKER_CHANGED: _speaker, EventType.CAPTION: _caption},
)
