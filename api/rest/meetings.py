"""/api/v1/me and /api/v1/meetings: thin over api/accounts and api/meetings (the rules live there)."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import Parameter

from api.accounts.service import get_user
from api.errors import UnauthenticatedError
from api.meetings import service
from api.participants.permissions import Role
from api.rest import idempotency
from api.rest.auth import caller, owner, services
from api.rest.errors import BODY, COMMON, CONFLICT
from api.rest.models import MeetingCreate, MeetingOut, MeetingPage, MeetingSettingsIn, MeetingUpdate, UserOut
from api.security import UserPrincipal

IDEMPOTENCY_KEY = Parameter(
    header="Idempotency-Key",
    default=None,
    max_length=255,
    description="Send the same key when retrying a create: the first answer comes back instead of a second object.",
)


def _settings(s: MeetingSettingsIn | None) -> service.MeetingSettings:
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
        chat_policy=s.chat_policy,
        private_chat=s.private_chat,
        guest_waiting_room=s.guest_waiting_room,
        allow_local_recording=s.allow_local_recording,
    )


def _draft(d: MeetingCreate | MeetingUpdate) -> service.MeetingDraft:
    return service.MeetingDraft(
        title=d.title,
        description=d.description,
        starts_at=d.starts_at,
        duration_minutes=d.duration_minutes,
        timezone=d.timezone,
        recurrence=d.recurrence,
        passcode=d.passcode,
    )


class UsersController(Controller):
    path = "/me"
    tags = ["users"]

    @get("/", summary="The account the token or key belongs to", responses=COMMON, operation_id="getMe")
    async def me(self, request: Request[Any, Any, Any]) -> UserOut:
        principal = await caller(request, "users:read")
        if not isinstance(principal, UserPrincipal):
            raise UnauthenticatedError("guests have no account; use an API key or an account's token")
        return UserOut.of(await get_user(services(request).db, principal.user_id))


class MeetingsController(Controller):
    path = "/meetings"
    tags = ["meetings"]

    @get("/", summary="Meetings you host or attended", responses=COMMON, operation_id="listMeetings")
    async def list_meetings(
        self,
        request: Request[Any, Any, Any],
        filter: Literal["upcoming", "past"] = Parameter(
            default="upcoming", description="upcoming: soonest first; past: latest first"
        ),
        first: int = Parameter(default=20, ge=1, le=100),
        after: str | None = Parameter(default=None, max_length=200, description="next_cursor of the previous page"),
    ) -> MeetingPage:
        principal = await caller(request, "meetings:read")
        svc = services(request)
        rows, cursor = await service.list_mine(svc, principal, upcoming=filter == "upcoming", first=first, after=after)
        me = principal.user_id if isinstance(principal, UserPrincipal) else None
        items = [MeetingOut.of(svc, m, "host" if m.host_user_id == me else "participant") for m in rows]
        return MeetingPage(items=items, next_cursor=cursor)

    @post(
        "/",
        summary="Create a meeting (instant without starts_at, else scheduled)",
        responses={**COMMON, **CONFLICT, **BODY},
        status_code=201,
        operation_id="createMeeting",
    )
    async def create_meeting(
        self,
        request: Request[Any, Any, Any],
        data: MeetingCreate,
        idempotency_key: str | None = IDEMPOTENCY_KEY,
    ) -> Response[MeetingOut]:
        principal = await caller(request, "meetings:write")
        svc = services(request)

        async def create() -> tuple[int, MeetingOut]:
            m = await service.create(
                svc, principal, _draft(data), _settings(data.settings), scheduled=data.starts_at is not None
            )
            return 201, MeetingOut.of(svc, m, Role.HOST.value)

        body = await request.json()
        return await idempotency.once(svc, owner(principal), idempotency_key, body, create)

    @get(
        "/{meeting_id:str}", summary="A meeting you host or were let into", responses=COMMON, operation_id="getMeeting"
    )
    async def get_meeting(self, request: Request[Any, Any, Any], meeting_id: str) -> MeetingOut:
        principal = await caller(request, "meetings:read")
        svc = services(request)
        return MeetingOut.viewed(svc, await service.access(svc, principal, meeting_id))

    @patch(
        "/{meeting_id:str}",
        summary="Change a meeting (fields left out keep their value)",
        responses={**COMMON, **CONFLICT, **BODY},
        operation_id="updateMeeting",
    )
    async def update_meeting(self, request: Request[Any, Any, Any], meeting_id: str, data: MeetingUpdate) -> MeetingOut:
        principal = await caller(request, "meetings:write")
        svc = services(request)
        m = await service.update(svc, principal, meeting_id, _draft(data), _settings(data.settings))
        return MeetingOut.of(svc, m, Role.HOST.value)

    @post(
        "/{meeting_id:str}/cancel",
        summary="Cancel a meeting that has not started",
        responses={**COMMON, **CONFLICT},
        status_code=200,
        operation_id="cancelMeeting",
    )
    async def cancel_meeting(self, request: Request[Any, Any, Any], meeting_id: str) -> MeetingOut:
        principal = await caller(request, "meetings:write")
        svc = services(request)
        return MeetingOut.of(svc, await service.cancel(svc, principal, meeting_id), Role.HOST.value)

    @post(
        "/{meeting_id:str}/end",
        summary="End a meeting for everyone",
        responses={**COMMON, **CONFLICT},
        status_code=200,
        operation_id="endMeeting",
    )
    async def end_meeting(self, request: Request[Any, Any, Any], meeting_id: str) -> MeetingOut:
        principal = await caller(request, "meetings:write")
        svc = services(request)
        return MeetingOut.of(svc, await service.end(svc, principal, meeting_id), Role.HOST.value)
