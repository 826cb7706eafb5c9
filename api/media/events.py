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


register([ActiveSpeakerEvent], {EventType.ACTIVE_SPEAKER_CHANGED: _speaker})
