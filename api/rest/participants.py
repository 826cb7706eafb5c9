"""/api/v1/meetings/{id}/participants: list, admit, remove (thin over api/meetings and api/participants)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.params import Parameter

from api.meetings import service as meetings
from api.participants.permissions import Action
from api.participants.service import control
from api.rest.auth import caller, services
from api.rest.errors import COMMON, CONFLICT
from api.rest.models import ParticipantOut, ParticipantPage, ParticipantState, page
from dbschema.models import Participant


class ParticipantsController(Controller):
    path = "/meetings/{meeting_id:str}/participants"
    tags = ["participants"]

    @get(
        "/",
        summary="A meeting's participants, in the order they arrived",
        responses=COMMON,
        operation_id="listParticipants",
    )
    async def list_participants(
        self,
        request: Request[Any, Any, Any],
        meeting_id: str,
        states: list[ParticipantState] | None = Parameter(
            query="state",
            default=None,
            description="Default: admitted. waiting, denied and removed: host and co-hosts only.",
        ),
        first: int = Parameter(default=50, ge=1, le=1000),
        after: str | None = Parameter(default=None, max_length=200),
    ) -> ParticipantPage:
        principal = await caller(request, "participants:read")
        rows = await meetings.participants(services(request), principal, meeting_id, list(states or ["admitted"]))
        chunk, cursor = page(rows, lambda p: p.id, first, after)
        return ParticipantPage(items=[ParticipantOut.of(p) for p in chunk], next_cursor=cursor)

    async def _control(
        self, request: Request[Any, Any, Any], action: Action, meeting_id: str, participant_id: str, **kw: Any
    ) -> ParticipantOut:
        principal = await caller(request, "participants:write")
        result = await control(
            services(request), principal, action, participant_id=participant_id, meeting_id=meeting_id, **kw
        )
        assert isinstance(result, Participant)
        return ParticipantOut.of(result)

    @post(
        "/{participant_id:str}/admit",
        summary="Let someone in from the waiting room",
        responses={**COMMON, **CONFLICT},
        status_code=200,
        operation_id="admitParticipant",
    )
    async def admit(self, request: Request[Any, Any, Any], meeting_id: str, participant_id: str) -> ParticipantOut:
        return await self._control(request, Action.ADMIT, meeting_id, participant_id)

    @delete(
        "/{participant_id:str}",
        summary="Remove someone (with block, the default, they cannot rejoin)",
        responses={**COMMON, **CONFLICT},
        status_code=200,
        operation_id="removeParticipant",
    )
    async def remove(
        self,
        request: Request[Any, Any, Any],
        meeting_id: str,
        participant_id: str,
        block: bool = Parameter(default=True),
    ) -> ParticipantOut:
        return await self._control(request, Action.REMOVE, meeting_id, participant_id, flag=block)
