from __future__ import annotations

import math
import time
from datetime import UTC, datetime

import strawberry

from api.errors import BadInputError
from api.graphql.context import ctx
from api.media.registry import EdgeInfo
from api.meetings.resolvers import as_host
from api.meetings.types import JoinResult, Meeting
from api.participants import service
from api.participants.permissions import Action
from api.participants.types import (
    EdgeRttInput,
    JoinMeetingInput,
    JoinStatus,
    JoinToken,
    MediaEdge,
    Participant,
    UpdateMyMediaInput,
)
from dbschema.models import Meeting as MeetingRow

MAX_EDGE_RTTS = 32


def _probe(rtts: list[EdgeRttInput] | None, region: str | None) -> service.EdgeProbe | None:
    if not rtts and not region:
        return None
    if rtts and len(rtts) > MAX_EDGE_RTTS:
        raise BadInputError("edgeRtts", f"at most {MAX_EDGE_RTTS} round-trip times")
    measured: dict[str, float] = {}
    for r in rtts or ():
        if not math.isfinite(r.rtt_ms) or not 0 <= r.rtt_ms <= 60_000:
            raise BadInputError("edgeRtts", "rttMs must be a number of milliseconds between 0 and 60000")
        measured[str(r.edge_id)[:100]] = r.rtt_ms
    return service.EdgeProbe(measured, region[:64] if region else None)


def _token(t: service.JoinTicket) -> JoinToken:
    return JoinToken(token=t.token, expires_at=datetime.fromtimestamp(t.expires_at, UTC), edge_url=t.edge_url)


async def _on_participant(info: strawberry.Info, action: Action, participant_id: str, **kw: object) -> Participant:
    result = await service.control(ctx(info).services, ctx(info).principal, action, participant_id=participant_id, **kw)  # type: ignore[arg-type]
    assert not isinstance(result, MeetingRow)
    return Participant.from_row(result)


async def _on_meeting(info: strawberry.Info, action: Action, meeting_id: str, **kw: object) -> Meeting:
    result = await service.control(ctx(info).services, ctx(info).principal, action, meeting_id=meeting_id, **kw)  # type: ignore[arg-type]
    assert isinstance(result, MeetingRow)
    return as_host(result)


@strawberry.type
class ParticipantMutation:
    @strawberry.mutation(
        description="Join by number. Anonymous callers join as guests (if allowed) and get a guestToken."
    )
    async def join_meeting(self, info: strawberry.Info, input: JoinMeetingInput) -> JoinResult:
        c = ctx(info)
        out = await service.join(
            c.services,
            c.principal,
            number=input.number,
            passcode=input.passcode,
            display_name=input.display_name,
            client_key=c.client_key,
            client_token=input.client_token,
            invite_key=input.invite_key,
            probe=_probe(input.edge_rtts, input.region),
        )
        return JoinResult(
            status=JoinStatus(out.status.value),
            participant=Participant.from_row(out.participant),
            meeting_id=strawberry.ID(out.meeting.id),
            guest_token=out.guest_token,
            join_token=_token(out.ticket) if out.ticket else None,
            event_seq=out.event_seq,
            client_token=out.client_token,
        )

    @strawberry.mutation(description="A fresh join token for the media edge (admitted participants only).")
    async def refresh_join_token(
        self,
        info: strawberry.Info,
        meeting_id: strawberry.ID,
        edge_rtts: list[EdgeRttInput] | None = None,
        region: str | None = None,
    ) -> JoinToken:
        probe = _probe(edge_rtts, region)
        return _token(await service.refresh_ticket(ctx(info).services, ctx(info).principal, meeting_id, probe))

    @strawberry.mutation
    async def leave_meeting(self, info: strawberry.Info, meeting_id: strawberry.ID) -> Participant:
        return Participant.from_row(await service.leave(ctx(info).services, ctx(info).principal, meeting_id))

    @strawberry.mutation(description="Change your own microphone, camera or screen-share state.")
    async def update_my_media(
        self, info: strawberry.Info, meeting_id: strawberry.ID, input: UpdateMyMediaInput
    ) -> Participant:
        p = await service.update_my_media(
            ctx(info).services,
            ctx(info).principal,
            meeting_id,
            audio_muted=input.audio_muted,
            video_on=input.video_on,
            sharing=input.sharing,
        )
        return Participant.from_row(p)

    @strawberry.mutation(
        description="Tell everyone you start (or stop) recording the meeting on your device. Starting needs the "
        "host's permission (the meeting's allowLocalRecording setting, or allowLocalRecording for you): FORBIDDEN "
        "otherwise. The web client records only after this succeeds."
    )
    async def set_local_recording(
        self, info: strawberry.Info, meeting_id: strawberry.ID, recording: bool
    ) -> Participant:
        p = await service.set_local_recording(ctx(info).services, ctx(info).principal, meeting_id, recording)
        return Participant.from_row(p)

    @strawberry.mutation
    async def raise_hand(self, info: strawberry.Info, meeting_id: strawberry.ID) -> Participant:
        return Participant.from_row(await service.set_hand(ctx(info).services, ctx(info).principal, meeting_id, True))

    @strawberry.mutation(description="Lower your own hand (hosts lower others' with lowerHand).")
    async def lower_my_hand(self, info: strawberry.Info, meeting_id: strawberry.ID) -> Participant:
        return Participant.from_row(await service.set_hand(ctx(info).services, ctx(info).principal, meeting_id, False))

    # -- host controls on one participant --------------------------------------------------------------
    @strawberry.mutation
    async def admit_participant(self, info: strawberry.Info, participant_id: strawberry.ID) -> Participant:
        return await _on_participant(info, Action.ADMIT, participant_id)

    @strawberry.mutation
    async def deny_participant(self, info: strawberry.Info, participant_id: strawberry.ID) -> Participant:
        return await _on_participant(info, Action.DENY, participant_id)

    @strawberry.mutation
    async def mute_participant(self, info: strawberry.Info, participant_id: strawberry.ID) -> Participant:
        return await _on_participant(info, Action.MUTE, participant_id)

    @strawberry.mutation
    async def ask_to_unmute(self, info: strawberry.Info, participant_id: strawberry.ID) -> Participant:
        return await _on_participant(info, Action.ASK_UNMUTE, participant_id)

    @strawberry.mutation
    async def stop_video(self, info: strawberry.Info, participant_id: strawberry.ID) -> Participant:
        return await _on_participant(info, Action.STOP_VIDEO, participant_id)

    @strawberry.mutation(description="Remove someone; with block (default) they cannot join again.")
    async def remove_participant(
        self, info: strawberry.Info, participant_id: strawberry.ID, block: bool = True
    ) -> Participant:
        return await _on_participant(info, Action.REMOVE, participant_id, flag=block)

    @strawberry.mutation(
        description="Let someone record the meeting locally, or withdraw it (a recording in progress is stopped)."
    )
    async def allow_local_recording(
        self, info: strawberry.Info, participant_id: strawberry.ID, allowed: bool
    ) -> Participant:
        return await _on_participant(info, Action.GRANT_LOCAL_RECORDING, participant_id, flag=allowed)

    @strawberry.mutation
    async def make_cohost(self, info: strawberry.Info, participant_id: strawberry.ID) -> Participant:
        return await _on_participant(info, Action.MAKE_COHOST, participant_id)

    @strawberry.mutation
    async def revoke_cohost(self, info: strawberry.Info, participant_id: strawberry.ID) -> Participant:
        return await _on_participant(info, Action.REVOKE_COHOST, participant_id)

    @strawberry.mutation
    async def transfer_host(self, info: strawberry.Info, participant_id: strawberry.ID) -> Participant:
        return await _on_participant(info, Action.TRANSFER_HOST, participant_id)

    @strawberry.mutation(description="Rename a participant (anyone may rename themselves).")
    async def rename_participant(
        self, info: strawberry.Info, participant_id: strawberry.ID, display_name: str
    ) -> Participant:
        return await _on_participant(info, Action.RENAME, participant_id, text=display_name)

    @strawberry.mutation
    async def lower_hand(self, info: strawberry.Info, participant_id: strawberry.ID) -> Participant:
        return await _on_participant(info, Action.LOWER_HAND, participant_id)

    # -- meeting-wide host controls -------------------------------------------------------------------------
    @strawberry.mutation
    async def admit_all(self, info: strawberry.Info, meeting_id: strawberry.ID) -> Meeting:
        return await _on_meeting(info, Action.ADMIT_ALL, meeting_id)

    @strawberry.mutation
    async def deny_all(self, info: strawberry.Info, meeting_id: strawberry.ID) -> Meeting:
        return await _on_meeting(info, Action.DENY_ALL, meeting_id)

    @strawberry.mutation(description="Mute everyone but hosts; optionally set whether they may unmute themselves.")
    async def mute_all(
        self, info: strawberry.Info, meeting_id: strawberry.ID, allow_self_unmute: bool | None = None
    ) -> Meeting:
        return await _on_meeting(info, Action.MUTE_ALL, meeting_id, flag=allow_self_unmute)

    @strawberry.mutation
    async def set_allow_self_unmute(self, info: strawberry.Info, meeting_id: strawberry.ID, allowed: bool) -> Meeting:
        return await _on_meeting(info, Action.SET_SELF_UNMUTE, meeting_id, flag=allowed)

    @strawberry.mutation
    async def lock_meeting(self, info: strawberry.Info, meeting_id: strawberry.ID) -> Meeting:
        return await _on_meeting(info, Action.LOCK, meeting_id)

    @strawberry.mutation
    async def unlock_meeting(self, info: strawberry.Info, meeting_id: strawberry.ID) -> Meeting:
        return await _on_meeting(info, Action.UNLOCK, meeting_id)

    @strawberry.mutation(description="Spotlight a participant for everyone; null clears it.")
    async def spotlight(
        self, info: strawberry.Info, meeting_id: strawberry.ID, participant_id: strawberry.ID | None = None
    ) -> Meeting:
        result = await service.control(
            ctx(info).services,
            ctx(info).principal,
            Action.SPOTLIGHT,
            meeting_id=meeting_id,
            participant_id=participant_id,
        )
        assert isinstance(result, MeetingRow)
        return as_host(result)

    @strawberry.mutation
    async def lower_all_hands(self, info: strawberry.Info, meeting_id: strawberry.ID) -> Meeting:
        return await _on_meeting(info, Action.LOWER_ALL_HANDS, meeting_id)

    @strawberry.mutation(description="Turn the waiting room on or off mid-meeting (off admits everyone waiting).")
    async def set_waiting_room(self, info: strawberry.Info, meeting_id: strawberry.ID, enabled: bool) -> Meeting:
        return await _on_meeting(info, Action.SET_WAITING_ROOM, meeting_id, flag=enabled)


@strawberry.type
class EdgeQuery:
    @strawberry.field(
        description="The live media edges, one per region (the least loaded), for a client to measure its "
        "round-trip time to before joining (`joinMeeting(input: {edgeRtts})`). Empty with a single edge."
    )
    async def media_edges(self, info: strawberry.Info) -> list[MediaEdge]:
        edges = await ctx(info).services.edges.live(time.time())
        best: dict[str, EdgeInfo] = {}
        for e in sorted(edges, key=lambda e: (e.load, e.edge_id)):
            best.setdefault(e.region, e)
        return [MediaEdge(id=strawberry.ID(e.edge_id), region=e.region, probe_url=e.probe_url) for e in best.values()]
