from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import strawberry

from api.calendars import service as calendars
from api.calendars.types import CalendarLinks
from api.errors import ForbiddenError
from api.graphql.context import ctx
from api.meetings import numbers, schedule
from api.meetings.invite import invite_link
from api.meetings.service import Access, check_visible_states
from api.participants import store as participants_store
from api.participants.permissions import HOSTS
from api.participants.types import (
    AttendanceEntry,
    JoinStatus,
    JoinToken,
    Participant,
    ParticipantRole,
    ParticipantState,
)
from dbschema.models import Meeting as MeetingRow
from dbschema.models import utcnow


@strawberry.enum
class MeetingStatus(Enum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


@strawberry.enum
class MeetingKind(Enum):
    INSTANT = "instant"
    SCHEDULED = "scheduled"


@strawberry.enum
class MeetingListFilter(Enum):
    UPCOMING = "upcoming"
    PAST = "past"


@strawberry.enum(description="Whom participants may chat with; hosts and co-hosts may always chat.")
class ChatPolicy(Enum):
    EVERYONE = "everyone"
    HOST_ONLY = "host_only"
    NO_ONE = "no_one"


@strawberry.type
class MeetingSettings:
    waiting_room: bool
    join_before_host: bool
    mute_on_entry: bool
    allow_guests: bool
    allow_self_unmute: bool = strawberry.field(description="Whether participants muted by the host may unmute.")
    host_only_screen_share: bool
    max_participants: int
    auto_record: bool
    chat_policy: ChatPolicy
    private_chat: bool = strawberry.field(description="Whether participants may send private messages.")
    guest_waiting_room: bool = strawberry.field(
        description="Guests (not signed in) wait for admission even with the waiting room off. Default on."
    )
    allow_local_recording: bool = strawberry.field(
        description="Everyone may record the meeting locally; otherwise hosts, co-hosts and people granted it."
    )


@strawberry.type(description="The live state of a meeting, as carried by events.")
class MeetingState:
    id: strawberry.ID
    status: MeetingStatus
    title: str
    locked: bool
    waiting_room: bool
    allow_self_unmute: bool
    mute_on_entry: bool
    host_only_screen_share: bool
    spotlight_participant_id: strawberry.ID | None
    max_participants: int
    chat_policy: ChatPolicy
    private_chat: bool
    guest_waiting_room: bool
    allow_local_recording: bool

    @classmethod
    def from_snapshot(cls, d: dict[str, Any]) -> MeetingState:
        return cls(
            id=strawberry.ID(d["id"]),
            status=MeetingStatus(d["status"]),
            title=d["title"],
            locked=d["locked"],
            waiting_room=d["waitingRoom"],
            allow_self_unmute=d["allowSelfUnmute"],
            mute_on_entry=d["muteOnEntry"],
            host_only_screen_share=d["hostOnlyScreenShare"],
            spotlight_participant_id=d["spotlightParticipantId"],
            max_participants=d["maxParticipants"],
            chat_policy=ChatPolicy(d.get("chatPolicy", "everyone")),
            private_chat=d.get("privateChat", True),
            guest_waiting_room=d.get("guestWaitingRoom", False),
            allow_local_recording=d.get("allowLocalRecording", False),
        )


@strawberry.type
class Meeting:
    row: strawberry.Private[MeetingRow]
    viewer: strawberry.Private[Access]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row.id)

    @strawberry.field(description="11-digit number people type to join.")
    def number(self) -> str:
        return self.row.number

    @strawberry.field(description="The number grouped for reading aloud: 123 4567 8901.")
    def number_display(self) -> str:
        return numbers.display(self.row.number)

    @strawberry.field
    def title(self) -> str:
        return self.row.title

    @strawberry.field
    def description(self) -> str:
        return self.row.description

    @strawberry.field
    def kind(self) -> MeetingKind:
        return MeetingKind(self.row.kind)

    @strawberry.field
    def status(self) -> MeetingStatus:
        return MeetingStatus(self.row.status)

    @strawberry.field
    def starts_at(self) -> datetime:
        return self.row.starts_at

    @strawberry.field
    def duration_minutes(self) -> int:
        return self.row.duration_minutes

    @strawberry.field
    def timezone(self) -> str:
        return self.row.timezone

    @strawberry.field(description="RFC 5545 RRULE, evaluated in the meeting's time zone.")
    def recurrence(self) -> str | None:
        return self.row.recurrence

    @strawberry.field
    def has_passcode(self) -> bool:
        return self.row.passcode_hash is not None

    @strawberry.field
    def locked(self) -> bool:
        return self.row.locked

    @strawberry.field
    def spotlight_participant_id(self) -> strawberry.ID | None:
        return strawberry.ID(self.row.spotlight_participant_id) if self.row.spotlight_participant_id else None

    @strawberry.field
    def started_at(self) -> datetime | None:
        return self.row.started_at

    @strawberry.field
    def ended_at(self) -> datetime | None:
        return self.row.ended_at

    @strawberry.field(description="Sequence number of the latest event: subscribe with afterSeq to resume from here.")
    def event_seq(self) -> int:
        return self.row.event_seq

    @strawberry.field
    def settings(self) -> MeetingSettings:
        m = self.row
        return MeetingSettings(
            waiting_room=m.waiting_room,
            join_before_host=m.join_before_host,
            mute_on_entry=m.mute_on_entry,
            allow_guests=m.allow_guests,
            allow_self_unmute=m.allow_self_unmute,
            host_only_screen_share=m.host_only_screen_share,
            max_participants=m.max_participants,
            auto_record=m.auto_record,
            chat_policy=ChatPolicy(m.chat_policy),
            private_chat=m.private_chat,
            guest_waiting_room=m.guest_waiting_room,
            allow_local_recording=m.allow_local_recording,
        )

    @strawberry.field(description="The passcode (hosts and co-hosts; null without one).")
    def passcode(self, info: strawberry.Info) -> str | None:
        if self.viewer.role not in HOSTS:
            raise ForbiddenError("only the host and co-hosts see the passcode")
        return ctx(info).services.creds.open_passcode(self.row.id, self.row.passcode_sealed)

    @strawberry.field(
        description="The link to share: opens the meeting's page and, for a meeting with a passcode, carries a key "
        "that lets its holder in without typing it (changing the passcode retires old links)."
    )
    def invite_link(self, info: strawberry.Info) -> str:
        return invite_link(ctx(info).services, self.row)

    @strawberry.field(
        description='The meeting as a calendar entry: its .ics URL and "add to Google Calendar / Outlook" links.'
    )
    async def calendar_links(self, info: strawberry.Info) -> CalendarLinks:
        return CalendarLinks.of(await calendars.view(ctx(info).services, self.row))

    @strawberry.field(description="The meeting's iCalendar file (RFC 5545, METHOD:PUBLISH) as text.")
    async def icalendar(self, info: strawberry.Info) -> str:
        return (await calendars.file_of(ctx(info).services, self.row)).decode()

    @strawberry.field(description="Your role in this meeting.")
    def my_role(self) -> ParticipantRole | None:
        return ParticipantRole(self.viewer.role.value) if self.viewer.role else None

    @strawberry.field(description="Your participant id in this meeting, if you joined it.")
    def my_participant_id(self) -> strawberry.ID | None:
        return strawberry.ID(self.viewer.participant_id) if self.viewer.participant_id else None

    @strawberry.field(
        description="Start times of the next occurrences that have not ended yet (skipped ones left out)."
    )
    async def next_occurrences(self, info: strawberry.Info, count: int = 5) -> list[datetime]:
        m = self.row
        if m.status in ("ended", "cancelled"):
            return []
        wanted = max(1, min(count, 50))
        skipped = await calendars.skipped(ctx(info).services, m) if m.recurrence else set()
        found = schedule.occurrences(
            m.recurrence,
            m.starts_at,
            m.timezone,
            timedelta(minutes=m.duration_minutes),
            after=utcnow(),
            count=wanted + len(skipped),
        )
        return [at for at in found if at not in skipped][:wanted]

    @strawberry.field(
        description="Participants by state (default: admitted). Waiting and denied ones: host and co-hosts only."
    )
    async def participants(
        self, info: strawberry.Info, states: list[ParticipantState] | None = None
    ) -> list[Participant]:
        wanted = [s.value for s in (states or [ParticipantState.ADMITTED])]
        check_visible_states(self.viewer.role, wanted)
        async with ctx(info).services.db.read() as session:
            rows = await participants_store.in_states(session, self.row.id, wanted)
        return [Participant.from_row(p) for p in rows]

    @strawberry.field(description="The raised-hand queue: admitted participants with a hand up, first raised first.")
    async def raised_hands(self, info: strawberry.Info) -> list[Participant]:
        async with ctx(info).services.db.read() as session:
            rows = await participants_store.raised_hands(session, self.row.id)
        return [Participant.from_row(p) for p in rows]

    @strawberry.field(description="Who was admitted, waited, left or was removed, and when (host and co-hosts).")
    async def attendance(self, info: strawberry.Info) -> list[AttendanceEntry]:
        if self.viewer.role not in HOSTS:
            raise ForbiddenError("only the host and co-hosts see the attendance history")
        async with ctx(info).services.db.read() as session:
            rows = await participants_store.attendance(session, self.row.id)
        return [
            AttendanceEntry(
                participant_id=strawberry.ID(p.id),
                display_name=p.display_name,
                state=ParticipantState(a.state),
                at=a.at,
            )
            for a, p in rows
        ]


@strawberry.type(description="What anyone with the meeting number sees before joining.")
class MeetingLobby:
    number: str
    title: str
    host_name: str | None
    has_passcode: bool
    allow_guests: bool
    status: MeetingStatus
    starts_at: datetime


@strawberry.type
class MeetingConnection:
    items: list[Meeting]
    next_cursor: str | None = strawberry.field(description="Pass as `after` for the next page; null on the last.")


@strawberry.input
class MeetingSettingsInput:
    waiting_room: bool | None = None
    join_before_host: bool | None = None
    mute_on_entry: bool | None = None
    allow_guests: bool | None = None
    allow_self_unmute: bool | None = None
    host_only_screen_share: bool | None = None
    max_participants: int | None = strawberry.field(default=None, description="2..1000, default 100.")
    auto_record: bool | None = None
    chat_policy: ChatPolicy | None = None
    private_chat: bool | None = None
    guest_waiting_room: bool | None = strawberry.field(
        default=None, description="Guests wait for admission (default on)."
    )
    allow_local_recording: bool | None = strawberry.field(
        default=None, description="Everyone may record locally (default off: hosts, co-hosts and grantees only)."
    )


@strawberry.input
class CreateMeetingInput:
    title: str
    description: str | None = None
    starts_at: datetime | None = strawberry.field(default=None, description="Omit for an instant meeting.")
    duration_minutes: int | None = 60
    timezone: str | None = "UTC"
    recurrence: str | None = strawberry.field(default=None, description="RRULE, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10")
    passcode: str | None = strawberry.field(
        default=None,
        description="4..10 letters or digits. Omitted on an instant meeting: one is generated (read it back as "
        "`passcode`; `inviteLink` carries it). Empty string: no passcode.",
    )
    settings: MeetingSettingsInput | None = None


@strawberry.input
class UpdateMeetingInput:
    title: str | None = None
    description: str | None = None
    starts_at: datetime | None = None
    duration_minutes: int | None = None
    timezone: str | None = None
    recurrence: str | None = strawberry.field(default=None, description="Empty string removes the recurrence.")
    passcode: str | None = strawberry.field(default=None, description="Empty string removes the passcode.")
    settings: MeetingSettingsInput | None = None


@strawberry.type
class JoinResult:
    status: JoinStatus
    participant: Participant
    meeting_id: strawberry.ID
    guest_token: str | None = strawberry.field(
        description="Set when you joined as a guest: send it as `Authorization: Bearer …` from now on."
    )
    join_token: JoinToken | None = strawberry.field(description="Present once admitted: hand it to the edge.")
    event_seq: int = strawberry.field(
        description="The meeting's event sequence right after this join: pass it as afterSeq when subscribing."
    )
    client_token: str | None = strawberry.field(
        default=None,
        description="This client's identity, issued by the server: send it as clientToken on later joins.",
    )
