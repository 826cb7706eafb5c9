from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from api.meetings.types import MeetingState
from api.participants.types import Participant
from protocol.events import EventType as BusEventType
from protocol.events import MeetingEvent as BusEvent

MeetingEventType = strawberry.enum(BusEventType, name="MeetingEventType")


@strawberry.interface(description="Something that happened in a meeting, numbered in order per meeting.")
class MeetingEvent:
    seq: int = strawberry.field(description="Per-meeting sequence number; resume with afterSeq.")
    type: MeetingEventType  # type: ignore[valid-type]
    meeting_id: strawberry.ID
    at: datetime
    actor_id: strawberry.ID | None = strawberry.field(description="Participant who caused it, if any.")


@strawberry.type(description="A participant's state changed; `participant` is the state after the change.")
class ParticipantEvent(MeetingEvent):
    participant: Participant


@strawberry.type(description="The meeting's live state changed (lock, waiting room, spotlight, start, end).")
class MeetingStateEvent(MeetingEvent):
    meeting: MeetingState


@strawberry.type(description="One change applied to many participants at once (mute all, lower all hands).")
class BulkParticipantEvent(MeetingEvent):
    participant_ids: list[strawberry.ID]
    meeting: MeetingState | None


def to_graphql(ev: BusEvent) -> MeetingEvent:
    seq, meeting_id, at = ev.seq, strawberry.ID(ev.meeting_id), datetime.fromtimestamp(ev.at, UTC)
    actor = strawberry.ID(ev.actor_id) if ev.actor_id else None
    if ev.participant is not None:
        return ParticipantEvent(
            seq=seq,
            type=ev.type,
            meeting_id=meeting_id,
            at=at,
            actor_id=actor,
            participant=Participant.from_snapshot(ev.participant),
        )
    if "participantIds" in ev.data:
        return BulkParticipantEvent(
            seq=seq,
            type=ev.type,
            meeting_id=meeting_id,
            at=at,
            actor_id=actor,
            participant_ids=[strawberry.ID(i) for i in ev.data["participantIds"]],
            meeting=MeetingState.from_snapshot(ev.meeting) if ev.meeting else None,
        )
    assert ev.meeting is not None, ev.type
    return MeetingStateEvent(
        seq=seq,
        type=ev.type,
        meeting_id=meeting_id,
        at=at,
        actor_id=actor,
        meeting=MeetingState.from_snapshot(ev.meeting),
    )


EVENT_TYPES = [ParticipantEvent, MeetingStateEvent, BulkParticipantEvent]
