"""GraphQL event types. Every kind implements the `MeetingEvent` interface; domains register a converter for
the bus event types they own (see `register`), and their GraphQL types join `EVENT_TYPES`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypedDict

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
    room_id: strawberry.ID | None = strawberry.field(
        default=None, description="Breakout room the event belongs to; null for the main room."
    )


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


class Common(TypedDict):
    """The interface's fields for one bus event: ``SomeEvent(**c, extra=…)``."""

    seq: int
    type: BusEventType
    meeting_id: strawberry.ID
    at: datetime
    actor_id: strawberry.ID | None
    room_id: strawberry.ID | None


def common(ev: BusEvent) -> Common:
    return Common(
        seq=ev.seq,
        type=ev.type,
        meeting_id=strawberry.ID(ev.meeting_id),
        at=datetime.fromtimestamp(ev.at, UTC),
        actor_id=strawberry.ID(ev.actor_id) if ev.actor_id else None,
        room_id=strawberry.ID(ev.room_id) if ev.room_id else None,
    )


Converter = Callable[[BusEvent, Common], MeetingEvent]
_CONVERTERS: dict[BusEventType, Converter] = {}
EVENT_TYPES: list[type] = [ParticipantEvent, MeetingStateEvent, BulkParticipantEvent]


def register(types: list[type], converts: dict[BusEventType, Converter]) -> None:
    """Called by a domain's event module at import: its GraphQL types and how to build them."""
    EVENT_TYPES.extend(t for t in types if t not in EVENT_TYPES)
    _CONVERTERS.update(converts)


_RECENT: dict[tuple[str, int], MeetingEvent] = {}
_RECENT_MAX = 512


def to_graphql(ev: BusEvent) -> MeetingEvent:
    """The GraphQL object for a bus event, built once per event and shared by every subscriber that sees it
    (so `SharedEventExecutionContext` can execute it once)."""
    key = (ev.meeting_id, ev.seq)
    built = _RECENT.get(key)
    if built is None:
        built = _build(ev)
        if len(_RECENT) >= _RECENT_MAX:
            del _RECENT[next(iter(_RECENT))]
        _RECENT[key] = built
    return built


def _build(ev: BusEvent) -> MeetingEvent:
    c = common(ev)
    convert = _CONVERTERS.get(ev.type)
    if convert is not None:
        return convert(ev, c)
    if ev.participant is not None:
        return ParticipantEvent(
            **c,
            participant=Participant.from_snapshot(ev.participant),
        )
    if "participantIds" in ev.data:
        return BulkParticipantEvent(
            **c,
            participant_ids=[strawberry.ID(i) for i in ev.data["participantIds"]],
            meeting=MeetingState.from_snapshot(ev.meeting) if ev.meeting else None,
        )
    if ev.meeting is None:
        raise ValueError(f"no GraphQL shape for event {ev.type} (register a converter)")
    return MeetingStateEvent(
        **c,
        meeting=MeetingState.from_snapshot(ev.meeting),
    )
