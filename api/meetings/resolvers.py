from __future__ import annotations

import strawberry

from api.graphql.context import ctx
from api.meetings import service
from api.meetings.service import Access
from api.meetings.types import (
    CreateMeetingInput,
    Meeting,
    MeetingConnection,
    MeetingListFilter,
    MeetingLobby,
    MeetingSettingsInput,
    MeetingStatus,
    UpdateMeetingInput,
)
from api.participants.permissions import Role
from dbschema.models import Meeting as MeetingRow


def _settings(s: MeetingSettingsInput | None) -> service.MeetingSettings:
    if s is None:
        return service.MeetingSettings()
    return service.MeetingSettings(
        waiting_room=s.waiting_room,
        join_before_host=s.join_before_host,
        mute_on_entry=s.mute_on_entry,
        allow_guests=s.allow_guests,
        allow_self_unmute=s.allow_self_unmute,
        host_only_screen_share=s.host_only_screen_share,
        max_participants=s.max_participants,
        auto_record=s.auto_record,
        chat_policy=s.chat_policy.value if s.chat_policy else None,
        private_chat=s.private_chat,
        guest_waiting_room=s.guest_waiting_room,
        allow_local_recording=s.allow_local_recording,
    )


def _draft(input: CreateMeetingInput | UpdateMeetingInput) -> service.MeetingDraft:
    return service.MeetingDraft(
        title=input.title,
        description=input.description,
        starts_at=input.starts_at,
        duration_minutes=input.duration_minutes,
        timezone=input.timezone,
        recurrence=input.recurrence,
        passcode=input.passcode,
    )


def as_host(m: MeetingRow) -> Meeting:
    return Meeting(row=m, viewer=Access(m, Role.HOST, None, None))


@strawberry.type
class MeetingQuery:
    @strawberry.field(description="A meeting you host or have been let into.")
    async def meeting(self, info: strawberry.Info, id: strawberry.ID) -> Meeting:
        access = await service.access(ctx(info).services, ctx(info).principal, id)
        return Meeting(row=access.meeting, viewer=access)

    @strawberry.field(description="Public facts about a meeting, by number, for the pre-join page.")
    async def meeting_lobby(self, info: strawberry.Info, number: str) -> MeetingLobby:
        m, host_name = await service.lobby(ctx(info).services, number, ctx(info).client_key)
        return MeetingLobby(
            number=m.number,
            title=m.title,
            host_name=host_name,
            has_passcode=m.passcode_hash is not None,
            allow_guests=m.allow_guests,
            status=MeetingStatus(m.status),
            starts_at=m.starts_at,
        )

    @strawberry.field(description="Meetings you host or attended. UPCOMING: soonest first; PAST: latest first.")
    async def my_meetings(
        self,
        info: strawberry.Info,
        filter: MeetingListFilter = MeetingListFilter.UPCOMING,
        first: int = 20,
        after: str | None = None,
    ) -> MeetingConnection:
        principal = ctx(info).principal
        rows, cursor = await service.list_mine(
            ctx(info).services,
            principal,
            upcoming=filter is MeetingListFilter.UPCOMING,
            first=first,
            after=after,
        )
        items = []
        for m in rows:
            role = Role.HOST if m.host_user_id == getattr(principal, "user_id", None) else Role.PARTICIPANT
            items.append(Meeting(row=m, viewer=Access(m, role, None, None)))
        return MeetingConnection(items=items, next_cursor=cursor)


@strawberry.type
class MeetingMutation:
    @strawberry.mutation(description="Create an instant meeting (no startsAt) or a scheduled one.")
    async def create_meeting(self, info: strawberry.Info, input: CreateMeetingInput) -> Meeting:
        draft = _draft(input)
        m = await service.create(
            ctx(info).services,
            ctx(info).principal,
            draft,
            _settings(input.settings),
            scheduled=input.starts_at is not None,
        )
        return as_host(m)

    @strawberry.mutation
    async def update_meeting(self, info: strawberry.Info, id: strawberry.ID, input: UpdateMeetingInput) -> Meeting:
        draft = _draft(input)
        m = await service.update(ctx(info).services, ctx(info).principal, id, draft, _settings(input.settings))
        return as_host(m)

    @strawberry.mutation(description="Cancel a meeting that has not started.")
    async def cancel_meeting(self, info: strawberry.Info, id: strawberry.ID) -> Meeting:
        return as_host(await service.cancel(ctx(info).services, ctx(info).principal, id))

    @strawberry.mutation(description="End the meeting for everyone (host only).")
    async def end_meeting(self, info: strawberry.Info, id: strawberry.ID) -> Meeting:
        return as_host(await service.end(ctx(info).services, ctx(info).principal, id))
