"""GraphQL types of api/breakouts: the rooms as queried, their state as events carry it, and the event types
(registered with `api.events.types.register` when this module is imported)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import strawberry

from api.breakouts.service import DEFAULT_GRACE_S
from api.breakouts.views import Breakouts
from api.errors import ForbiddenError
from api.events.types import Common, MeetingEvent, register
from api.participants.permissions import HOSTS
from api.participants.types import Participant
from dbschema.breakouts import BreakoutRoom as BreakoutRoomRow
from protocol.events import EventType
from protocol.events import MeetingEvent as BusEvent


@strawberry.enum(description="Where the meeting's breakout rooms stand.")
class BreakoutStatus(Enum):
    CLOSED = "closed"
    OPEN = "open"
    CLOSING = "closing"


@strawberry.enum(description="How automatic assignment orders people before spreading them over the rooms.")
class BreakoutAssignOrder(Enum):
    RANDOM = "random"
    JOIN_ORDER = "join_order"


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _hosts_only(view: Breakouts, what: str) -> None:
    if view.viewer_role not in HOSTS:
        raise ForbiddenError(f"only the host and co-hosts see {what}")


# -- queried -----------------------------------------------------------------------------------------------------


@strawberry.type(description="A breakout room and its own presence.")
class BreakoutRoom:
    view: strawberry.Private[Breakouts]
    row: strawberry.Private[BreakoutRoomRow]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row.id)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field(description="Who is in the room now (empty while rooms are closed).")
    def participants(self) -> list[Participant]:
        return [Participant.from_row(p) for p in self.view.present(self.row.id)]

    @strawberry.field(description="Who the plan sends here when rooms open (host and co-hosts only).")
    def assigned_participants(self) -> list[Participant]:
        _hosts_only(self.view, "the breakout plan")
        return [Participant.from_row(p) for p in self.view.assigned(self.row.id)]


@strawberry.type(description="A meeting's breakout rooms: settings, the open/close cycle and the rooms.")
class BreakoutSession:
    view: strawberry.Private[Breakouts]

    @strawberry.field
    def meeting_id(self) -> strawberry.ID:
        return strawberry.ID(self.view.meeting_id)

    @strawberry.field
    def status(self) -> BreakoutStatus:
        return BreakoutStatus(self.view.schedule.phase.value)

    @strawberry.field(description="Whether participants may pick and switch rooms themselves while rooms are open.")
    def allow_choose_room(self) -> bool:
        return bool(self.view.state and self.view.state.allow_choose)

    @strawberry.field(description="Countdown (seconds) before everyone returns when the timer runs out.")
    def grace_seconds(self) -> int:
        return self.view.state.grace_s if self.view.state else DEFAULT_GRACE_S

    @strawberry.field
    def opened_at(self) -> datetime | None:
        st = self.view.state
        return st.opened_at if st and self.view.schedule.running else None

    @strawberry.field(description="When the closing countdown starts by itself (the timer); null without one.")
    def closes_at(self) -> datetime | None:
        return self.view.schedule.closes_at

    @strawberry.field(description="While CLOSING: when everyone is brought back to the main room.")
    def returns_at(self) -> datetime | None:
        return self.view.schedule.returns_at

    @strawberry.field
    def rooms(self) -> list[BreakoutRoom]:
        return [BreakoutRoom(view=self.view, row=r) for r in self.view.rooms]

    @strawberry.field(
        description="Admitted participants (not hosts or co-hosts) the plan sends nowhere (host and co-hosts only)."
    )
    def unassigned_participants(self) -> list[Participant]:
        _hosts_only(self.view, "the breakout plan")
        return [Participant.from_row(p) for p in self.view.unassigned()]


# -- carried by events ---------------------------------------------------------------------------------------------


@strawberry.type(description="A breakout room as an event saw it.")
class BreakoutRoomState:
    id: strawberry.ID
    name: str
    participant_ids: list[strawberry.ID] = strawberry.field(description="Who was in the room at that moment.")


@strawberry.type
class BreakoutAssignment:
    participant_id: strawberry.ID
    room_id: strawberry.ID


@strawberry.type(description="The breakout rooms' state as an event saw it.")
class BreakoutState:
    status: BreakoutStatus
    allow_choose_room: bool
    grace_seconds: int
    opened_at: datetime | None
    closes_at: datetime | None = strawberry.field(description="When the closing countdown starts by itself.")
    returns_at: datetime | None = strawberry.field(description="While CLOSING: when everyone returns.")
    rooms: list[BreakoutRoomState]

    @classmethod
    def from_snapshot(cls, d: dict[str, Any]) -> BreakoutState:
        return cls(
            status=BreakoutStatus(d["status"]),
            allow_choose_room=d["allowChooseRoom"],
            grace_seconds=d["graceSeconds"],
            opened_at=_ts(d["openedAt"]),
            closes_at=_ts(d["closesAt"]),
            returns_at=_ts(d["returnsAt"]),
            rooms=[
                BreakoutRoomState(
                    id=strawberry.ID(r["id"]),
                    name=r["name"],
                    participant_ids=[strawberry.ID(i) for i in r["participantIds"]],
                )
                for r in d["rooms"]
            ],
        )


@strawberry.type(
    description="Breakout rooms changed (BREAKOUT_ROOMS_UPDATED), opened, started their closing countdown or "
    "closed; `breakouts` is the state after the change."
)
class BreakoutRoomsEvent(MeetingEvent):
    breakouts: BreakoutState
    assignments: list[BreakoutAssignment] | None = strawberry.field(
        description="The plan; only in the events about plan changes, which go to the host and co-hosts alone."
    )


@strawberry.type(description="A message from the hosts to every breakout room, or to the room in roomId.")
class BreakoutBroadcastEvent(MeetingEvent):
    message: str
    sender_name: str | None


@strawberry.type(description="Someone in a breakout room (roomId) asks the hosts for help.")
class BreakoutHelpRequestedEvent(MeetingEvent):
    participant: Participant
    room_name: str


def _rooms_event(ev: BusEvent, c: Common) -> BreakoutRoomsEvent:
    plan = ev.data.get("assignments")
    return BreakoutRoomsEvent(
        **c,
        breakouts=BreakoutState.from_snapshot(ev.data),
        assignments=None
        if plan is None
        else [
            BreakoutAssignment(participant_id=strawberry.ID(x["participantId"]), room_id=strawberry.ID(x["roomId"]))
            for x in plan
        ],
    )


def _broadcast_event(ev: BusEvent, c: Common) -> BreakoutBroadcastEvent:
    return BreakoutBroadcastEvent(
        **c,
        message=ev.data["message"],
        sender_name=ev.data.get("senderName"),
    )


def _help_event(ev: BusEvent, c: Common) -> BreakoutHelpRequestedEvent:
    assert ev.participant is not None  # the asker's snapshot travels with every help request
    return BreakoutHelpRequestedEvent(
        **c,
        participant=Participant.from_snapshot(ev.participant),
        room_name=ev.data["roomName"],
    )


register(
    [BreakoutRoomsEvent, BreakoutBroadcastEvent, BreakoutHelpRequestedEvent],
    {
        EventType.BREAKOUT_ROOMS_UPDATED: _rooms_event,
        EventType.BREAKOUT_ROOMS_OPENED: _rooms_event,
        EventType.BREAKOUT_ROOMS_CLOSING: _rooms_event,
        EventType.BREAKOUT_ROOMS_CLOSED: _rooms_event,
        EventType.BREAKOUT_BROADCAST: _broadcast_event,
        EventType.BREAKOUT_HELP_REQUESTED: _help_event,
    },
)


# -- inputs ------------------------------------------------------------------------------------------------------


@strawberry.input
class CreateBreakoutRoomsInput:
    meeting_id: strawberry.ID
    count: int | None = strawberry.field(
        default=None, description="How many rooms to add (a meeting has at most 50); named Room 1, Room 2, …"
    )
    names: list[str] | None = strawberry.field(default=None, description="Names of the rooms to add, in order.")


@strawberry.input
class UpdateBreakoutSettingsInput:
    meeting_id: strawberry.ID
    allow_choose_room: bool | None = None
    grace_seconds: int | None = strawberry.field(
        default=None, description="Countdown when the timer runs out, 0..600 seconds."
    )


@strawberry.input
class AssignParticipantInput:
    participant_id: strawberry.ID
    room_id: strawberry.ID | None = strawberry.field(default=None, description="null takes them out of the plan.")


@strawberry.input
class AssignBreakoutRoomsInput:
    meeting_id: strawberry.ID
    assignments: list[AssignParticipantInput]


@strawberry.input
class AutoAssignBreakoutRoomsInput:
    meeting_id: strawberry.ID
    order: BreakoutAssignOrder = BreakoutAssignOrder.RANDOM
    seed: int | None = strawberry.field(
        default=None, description="RANDOM only: the same seed and people give the same plan."
    )
    keep_existing: bool = strawberry.field(
        default=False, description="Keep the current plan and place only those without a room."
    )


@strawberry.input
class OpenBreakoutRoomsInput:
    meeting_id: strawberry.ID
    duration_minutes: int | None = strawberry.field(
        default=None, description="Timer, 1..1440 minutes: then rooms close by themselves (after the countdown)."
    )
    grace_seconds: int | None = strawberry.field(
        default=None, description="Countdown when the timer runs out, 0..600 seconds (also kept as the setting)."
    )


@strawberry.input
class BroadcastToBreakoutRoomsInput:
    meeting_id: strawberry.ID
    message: str
    room_id: strawberry.ID | None = strawberry.field(default=None, description="One room only; null for all.")
