"""GraphQL entry points of api/breakouts. The schema merges every type listed in QUERIES / MUTATIONS / SUBSCRIPTIONS.

Breakout events travel on `meetingEvents` (importing `types` registers their GraphQL shapes), so there is no
subscription of our own."""

from __future__ import annotations

import strawberry

from api.breakouts import service
from api.breakouts.service import DEFAULT_GRACE_S, Assignment, AssignOrder
from api.breakouts.types import (
    AssignBreakoutRoomsInput,
    AutoAssignBreakoutRoomsInput,
    BreakoutBroadcastEvent,
    BreakoutHelpRequestedEvent,
    BreakoutRoom,
    BreakoutSession,
    BroadcastToBreakoutRoomsInput,
    CreateBreakoutRoomsInput,
    OpenBreakoutRoomsInput,
    UpdateBreakoutSettingsInput,
)
from api.events.types import to_graphql
from api.graphql.context import ctx
from api.participants.types import Participant


@strawberry.type
class BreakoutQuery:
    @strawberry.field(description="The meeting's breakout rooms, each with who is in it now (admitted participants).")
    async def breakout_rooms(self, info: strawberry.Info, meeting_id: strawberry.ID) -> list[BreakoutRoom]:
        view = await service.get(ctx(info).services, ctx(info).principal, meeting_id)
        return [BreakoutRoom(view=view, row=r) for r in view.rooms]

    @strawberry.field(description="Breakout settings, the open/close cycle with its deadlines, and the rooms.")
    async def breakout_session(self, info: strawberry.Info, meeting_id: strawberry.ID) -> BreakoutSession:
        return BreakoutSession(view=await service.get(ctx(info).services, ctx(info).principal, meeting_id))


@strawberry.type
class BreakoutMutation:
    # -- configuring (host and co-hosts, while rooms are closed) ------------------------------------------------
    @strawberry.mutation(description="Add rooms by count or by names (at most 50 per meeting).")
    async def create_breakout_rooms(self, info: strawberry.Info, input: CreateBreakoutRoomsInput) -> BreakoutSession:
        c = ctx(info)
        view = await service.create_rooms(
            c.services, c.principal, input.meeting_id, count=input.count, names=input.names
        )
        return BreakoutSession(view=view)

    @strawberry.mutation
    async def rename_breakout_room(self, info: strawberry.Info, room_id: strawberry.ID, name: str) -> BreakoutRoom:
        view, rid = await service.rename_room(ctx(info).services, ctx(info).principal, room_id, name)
        return next(BreakoutRoom(view=view, row=r) for r in view.rooms if r.id == rid)

    @strawberry.mutation(description="Delete a room and its part of the plan.")
    async def delete_breakout_room(self, info: strawberry.Info, room_id: strawberry.ID) -> BreakoutSession:
        return BreakoutSession(view=await service.delete_room(ctx(info).services, ctx(info).principal, room_id))

    @strawberry.mutation(description="Whether participants may choose rooms; the timer's closing countdown.")
    async def update_breakout_settings(
        self, info: strawberry.Info, input: UpdateBreakoutSettingsInput
    ) -> BreakoutSession:
        c = ctx(info)
        view = await service.update_settings(
            c.services,
            c.principal,
            input.meeting_id,
            allow_choose=input.allow_choose_room,
            grace_s=input.grace_seconds,
        )
        return BreakoutSession(view=view)

    @strawberry.mutation(description="Put participants in rooms in the plan (roomId null takes them out).")
    async def assign_breakout_rooms(self, info: strawberry.Info, input: AssignBreakoutRoomsInput) -> BreakoutSession:
        c = ctx(info)
        pairs = [Assignment(x.participant_id, x.room_id) for x in input.assignments]
        return BreakoutSession(view=await service.assign_rooms(c.services, c.principal, input.meeting_id, pairs))

    @strawberry.mutation(
        description="Spread admitted participants (not hosts or co-hosts) evenly over the rooms: shuffled "
        "(reproducibly with a seed) or in the order they first arrived."
    )
    async def auto_assign_breakout_rooms(
        self, info: strawberry.Info, input: AutoAssignBreakoutRoomsInput
    ) -> BreakoutSession:
        c = ctx(info)
        view = await service.auto_assign(
            c.services,
            c.principal,
            input.meeting_id,
            order=AssignOrder(input.order.value),
            seed=input.seed,
            keep_existing=input.keep_existing,
        )
        return BreakoutSession(view=view)

    # -- the open/close cycle -------------------------------------------------------------------------------------
    @strawberry.mutation(description="Open the rooms: everyone in the plan who is here moves into their room.")
    async def open_breakout_rooms(self, info: strawberry.Info, input: OpenBreakoutRoomsInput) -> BreakoutSession:
        c = ctx(info)
        view = await service.open_rooms(
            c.services, c.principal, input.meeting_id, minutes=input.duration_minutes, grace_s=input.grace_seconds
        )
        return BreakoutSession(view=view)

    @strawberry.mutation(
        description="Close the rooms after a countdown (0..600 s; 0 closes now): everyone returns to the main room."
    )
    async def close_breakout_rooms(
        self, info: strawberry.Info, meeting_id: strawberry.ID, grace_seconds: int = DEFAULT_GRACE_S
    ) -> BreakoutSession:
        view = await service.close_rooms(ctx(info).services, ctx(info).principal, meeting_id, grace_s=grace_seconds)
        return BreakoutSession(view=view)

    # -- while open -----------------------------------------------------------------------------------------------
    @strawberry.mutation(description="Host or co-host: put someone in a room now (roomId null: the main room).")
    async def move_to_breakout_room(
        self, info: strawberry.Info, participant_id: strawberry.ID, room_id: strawberry.ID | None = None
    ) -> Participant:
        p = await service.move(ctx(info).services, ctx(info).principal, participant_id, room_id)
        return Participant.from_row(p)

    @strawberry.mutation(description="Go to a room yourself (when participants may choose; hosts always may).")
    async def join_breakout_room(
        self, info: strawberry.Info, meeting_id: strawberry.ID, room_id: strawberry.ID
    ) -> Participant:
        p = await service.join_room(ctx(info).services, ctx(info).principal, meeting_id, room_id)
        return Participant.from_row(p)

    @strawberry.mutation(description="Go back to the main room yourself.")
    async def leave_breakout_room(self, info: strawberry.Info, meeting_id: strawberry.ID) -> Participant:
        p = await service.join_room(ctx(info).services, ctx(info).principal, meeting_id, None)
        return Participant.from_row(p)

    @strawberry.mutation(description="Send a message to every room (and the main room), or to one room.")
    async def broadcast_to_breakout_rooms(
        self, info: strawberry.Info, input: BroadcastToBreakoutRoomsInput
    ) -> BreakoutBroadcastEvent:
        c = ctx(info)
        ev = await service.broadcast(c.services, c.principal, input.meeting_id, input.message, input.room_id)
        out = to_graphql(ev)
        assert isinstance(out, BreakoutBroadcastEvent)
        return out

    @strawberry.mutation(description="From inside a breakout room: ask the host and co-hosts to come and help.")
    async def ask_for_breakout_help(
        self, info: strawberry.Info, meeting_id: strawberry.ID
    ) -> BreakoutHelpRequestedEvent:
        ev = await service.ask_for_help(ctx(info).services, ctx(info).principal, meeting_id)
        out = to_graphql(ev)
        assert isinstance(out, BreakoutHelpRequestedEvent)
        return out


QUERIES: tuple[type, ...] = (BreakoutQuery,)
MUTATIONS: tuple[type, ...] = (BreakoutMutation,)
SUBSCRIPTIONS: tuple[type, ...] = ()
