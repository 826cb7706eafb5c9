"""Joining, the waiting room, presence and host controls.

Every function: resolve who acts and with what role → check the permission matrix → write in one transaction
(the meeting row locked) → emit events, published after commit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.exc import IntegrityError

from api import validation
from api.db import Tx
from api.errors import (
    BadInputError,
    BadPasscodeError,
    ConflictError,
    ForbiddenError,
    MeetingEndedError,
    MeetingFullError,
    MeetingLockedError,
    NotFoundError,
    UnauthenticatedError,
)
from api.media import placement
from api.meetings import numbers
from api.participants import store
from api.participants.permissions import Action, Role, check
from api.participants.views import meeting_snapshot, participant_snapshot
from api.security import GuestPrincipal, Principal, UserPrincipal
from api.services import Services
from api.sso import meeting_access as sso_access
from dbschema.models import Meeting, Participant, User, utcnow
from protocol.events import Audience, EventType
from protocol.ids import new_id
from protocol.tokens import JoinClaims, PublishKind


class JoinStatus(StrEnum):
    WAITING = "WAITING"
    ADMITTED = "ADMITTED"


@dataclass(frozen=True, slots=True)
class JoinTicket:
    token: str
    expires_at: int
    edge_url: str


@dataclass(frozen=True, slots=True)
class JoinOutcome:
    status: JoinStatus
    participant: Participant
    meeting: Meeting
    guest_token: str | None
    ticket: JoinTicket | None
    event_seq: int
    """The meeting's sequence number right after this join: subscribe with afterSeq=event_seq to miss nothing."""
    client_token: str | None = None
    """The client's identity token (the one it presented, or a new one): keep it and present it next time."""


@dataclass(frozen=True, slots=True)
class JoiningClient:
    """Where a join comes from: the server-issued client id and the keyed hash of the address."""

    client_id: str
    address_mark: str


REMOVED = "the host removed you from this meeting"


LIVE_STATES = ("waiting", "admitted")


# -- helpers ---------------------------------------------------------------------------------------------


async def emit_participant(
    tx: Tx,
    p: Participant,
    type: EventType,
    *,
    actor: Participant | None = None,
    audience: Audience = Audience.ALL,
) -> None:
    await tx.emit(
        p.meeting_id,
        type,
        audience=audience,
        subject_id=p.id,
        actor_id=actor.id if actor else None,
        participant=participant_snapshot(p),
    )


async def emit_meeting(tx: Tx, m: Meeting, type: EventType, actor: Participant | None) -> None:
    await tx.emit(m.id, type, actor_id=actor.id if actor else None, meeting=meeting_snapshot(m))


def _apply_state(p: Participant, state: str) -> None:
    p.state = state
    if state == "admitted":
        p.joined_at = utcnow()
        p.waiting_reason = None
    if state != "admitted":
        p.sharing = False
        p.hand_raised_at = None
        p.recording_locally = False


def _set_state(tx: Tx, p: Participant, state: str) -> None:
    _apply_state(p, state)
    store.record(tx.session, p)


async def _enter(tx: Tx, p: Participant, state: str) -> None:
    """``_set_state`` for a participant that may be new: a new one (not in the session yet) is inserted now, in
    its final state - one INSERT instead of an INSERT and an UPDATE - and before its attendance row refers to it
    (the unit of work does not order inserts by foreign keys alone)."""
    _apply_state(p, state)
    if p not in tx.session:
        tx.session.add(p)
        await tx.session.flush()
    store.record(tx.session, p)


async def load_meeting(tx: Tx, meeting_id: str) -> Meeting:
    m = await store.meeting_for_update(tx.session, meeting_id)
    if m is None:
        raise NotFoundError(f"meeting {meeting_id} does not exist")
    return m


@dataclass(slots=True)
class Acting:
    meeting: Meeting
    role: Role
    participant: Participant | None
    """None when the meeting's owner manages it from outside the call."""


async def acting(tx: Tx, meeting_id: str, principal: Principal | None) -> Acting:
    """Who acts in a write transaction (the meeting row locked): their role and participant row. Domains
    built on meetings (chat, polls, breakouts) start every write with this, then `permissions.check`."""
    if principal is None:
        raise UnauthenticatedError("log in or join as a guest first")
    m = await load_meeting(tx, meeting_id)
    p = await store.by_principal(tx.session, m.id, principal)
    if p is not None and p.state == "admitted":
        return Acting(m, Role(p.role), p)
    if isinstance(principal, UserPrincipal) and principal.user_id == m.host_user_id:
        return Acting(m, Role.HOST, p)
    if p is not None and p.state == "waiting":
        raise ForbiddenError("you are still in the waiting room")
    raise ForbiddenError("you are not in this meeting")


async def _target(tx: Tx, acting: Acting, participant_id: str, *states: str) -> Participant:
    t = await store.by_id(tx.session, participant_id)
    if t is None or t.meeting_id != acting.meeting.id:
        raise NotFoundError(f"participant {participant_id} is not in this meeting")
    if states and t.state not in states:
        raise ConflictError(f"participant {participant_id} is {t.state}, not {' or '.join(states)}")
    return t


def ensure_running(m: Meeting) -> None:
    if m.status in ("ended", "cancelled"):
        raise MeetingEndedError(f"meeting {numbers.display(m.number)} has {m.status}")


def _publish_kinds(m: Meeting, role: Role) -> tuple[PublishKind, ...]:
    if m.host_only_screen_share and role not in (Role.HOST, Role.COHOST):
        return (PublishKind.AUDIO, PublishKind.VIDEO)
    return (PublishKind.AUDIO, PublishKind.VIDEO, PublishKind.SCREEN)


@dataclass(frozen=True, slots=True)
class EdgeProbe:
    """What the client measured before joining: round-trip times to candidate edges, and a region hint."""

    rtts: Mapping[str, float] = field(default_factory=dict)
    region: str | None = None


async def edge_url_for(svc: Services, m: Meeting, probe: EdgeProbe | None) -> str:
    """The signalling URL of the edge this participant should use: with edges registered over the control
    feed, the nearest by the client's measurements weighed against load (``api/media/placement.py``); with
    none, the configured one (``API_EDGE_URL``, or the embedded edge)."""
    now = time.time()
    edges = await svc.edges.live(now)
    if not edges:
        return svc.settings.signalling_url
    serving = [e.edge_id for e in await svc.edges.meeting_edges(m.id, now)]
    weights = placement.Weights(svc.settings.placement_latency_weight, svc.settings.placement_capacity_weight)
    probe = probe or EdgeProbe()
    chosen = placement.choose(
        edges,
        probe.rtts,
        region=probe.region,
        meeting_edges=serving,
        weights=weights,
        spread=svc.settings.placement_spread,
    )
    return chosen.signalling_url if chosen is not None else svc.settings.signalling_url


async def ticket_for(svc: Services, m: Meeting, p: Participant, probe: EdgeProbe | None = None) -> JoinTicket:
    expires = int(time.time()) + svc.settings.join_token_ttl_s
    claims = JoinClaims(
        meeting_id=m.id,
        participant_id=p.id,
        role=p.role,
        display_name=p.display_name,
        publish=_publish_kinds(m, Role(p.role)),
        room=p.breakout_room_id,
        expires_at=expires,
    )
    return JoinTicket(svc.creds.join_token(claims), expires, await edge_url_for(svc, m, probe))


async def _admit(tx: Tx, m: Meeting, p: Participant, actor: Participant | None) -> None:
    if m.mute_on_entry and p.role not in (Role.HOST, Role.COHOST):
        p.audio_muted = True
        p.muted_by_host = True
    await _enter(tx, p, "admitted")
    await emit_participant(tx, p, EventType.PARTICIPANT_ADMITTED, actor=actor)


async def _check_capacity(tx: Tx, m: Meeting, role: Role, extra: int = 1) -> None:
    if role in (Role.HOST, Role.COHOST):
        return
    if await store.count_admitted(tx.session, m.id) + extra > m.max_participants:
        raise MeetingFullError(f"meeting is full ({m.max_participants} participants)")


# -- joining ----------------------------------------------------------------------------------------------


async def join(
    svc: Services,
    principal: Principal | None,
    *,
    number: str,
    passcode: str | None,
    display_name: str | None,
    client_key: str,
    client_token: str | None = None,
    invite_key: str | None = None,
    probe: EdgeProbe | None = None,
) -> JoinOutcome:
    number = numbers.parse("number", number)
    name = validation.display_name("displayName", display_name) if display_name is not None else None
    await svc.reserve("join-address", client_key, message="too many joins from here")
    guest_token: str | None = None
    # The client's identity: from its guest token, else from the client token it kept, else a new one.
    client_id = principal.client_id if isinstance(principal, GuestPrincipal) else None
    client_id = client_id or svc.creds.client_id_from_token(client_token) or new_id()
    client = JoiningClient(client_id, svc.creds.address_mark(client_key))

    # One write transaction reads the meeting (locked), the caller's participation and who is in, decides and
    # writes (issue 16: the meeting used to be read twice and the blocks twice, in two transactions). A passcode
    # is the exception: argon2 must not run while the meeting is locked, so the transaction stops at that point,
    # the passcode is checked outside it, and the join runs again with the passcode's hash marked as verified.
    verified: str | None = None
    for _attempt in range(2):
        try:
            async with svc.db.write(inline=True) as tx:  # a few small statements: on the loop (api/db.py)
                keys = _Keys(passcode, invite_key, verified)
                outcome = await _join_tx(tx, principal, number, name, client, keys, svc)
                outcome.seq = tx.events[-1].seq if tx.events else outcome.meeting.event_seq
            break
        except _PasscodeNeeded as need:
            # The attempt is counted before the passcode is checked, so parallel guesses cannot all reach the
            # check; a right passcode gives it back.
            rl_key = f"{client_key}|{need.meeting_id}"
            attempt = await svc.reserve("passcode", rl_key, message="too many wrong passcodes")
            if not await asyncio.to_thread(svc.creds.verify_secret, need.passcode_hash, passcode or ""):
                raise BadPasscodeError("wrong passcode") from None
            await svc.refund("passcode", rl_key, attempt)
            verified = need.passcode_hash
        except IntegrityError as exc:  # the same principal joined twice at once; the other call won
            raise ConflictError("you are joining this meeting from another request already") from exc
    else:  # the host changed the passcode between the check and the join
        raise BadPasscodeError("the meeting's passcode changed while you joined; try again")
    joined = outcome.principal
    if principal is None and isinstance(joined, GuestPrincipal):
        guest_token = svc.creds.guest_token(joined.guest_id, joined.display_name, client.client_id)
    ticket = await ticket_for(svc, outcome.meeting, outcome.participant, probe) if outcome.state == "admitted" else None
    return JoinOutcome(
        JoinStatus.ADMITTED if ticket else JoinStatus.WAITING,
        outcome.participant,
        outcome.meeting,
        guest_token,
        ticket,
        outcome.seq,
        svc.creds.client_token(client.client_id),
    )


@dataclass(slots=True)
class _Joined:
    participant: Participant
    meeting: Meeting
    state: str
    principal: Principal
    seq: int = 0


@dataclass(frozen=True, slots=True)
class _Keys:
    """What the joiner presented to get past a passcode, and the passcode hash already verified (if any)."""

    passcode: str | None
    invite_key: str | None
    verified_hash: str | None


class _PasscodeNeeded(Exception):
    """The join needs its passcode checked (outside the transaction: argon2 takes tens of milliseconds)."""

    def __init__(self, meeting_id: str, passcode_hash: str) -> None:
        super().__init__(meeting_id)
        self.meeting_id = meeting_id
        self.passcode_hash = passcode_hash


async def _join_tx(
    tx: Tx,
    principal: Principal | None,
    number: str,
    name: str | None,
    client: JoiningClient,
    keys: _Keys,
    svc: Services,
) -> _Joined:
    view = await store.for_join(tx.session, number, principal, client.client_id, client.address_mark)
    if view is None:
        raise NotFoundError(f"no meeting has the number {numbers.display(number)}")
    m, p, here = view.meeting, view.participant, view.here
    user: User | None = None
    if isinstance(principal, UserPrincipal):
        user = await tx.session.get(User, principal.user_id)
        if user is None:
            raise UnauthenticatedError("this account no longer exists")
    is_owner = user is not None and user.id == m.host_user_id
    if (p is not None and p.blocked) or (not is_owner and here.client_blocked):
        raise ForbiddenError(REMOVED)
    ensure_running(m)

    # Passcode: the owner and people already let in are not asked again, nor are people with the invite link.
    if (
        m.passcode_hash
        and not is_owner
        and not (p is not None and p.state in LIVE_STATES)
        and keys.verified_hash != m.passcode_hash
        and not svc.creds.invite_key_valid(m.id, m.passcode_hash, keys.invite_key)
    ):
        if not keys.passcode:  # asking costs nothing and reveals nothing: not counted
            raise BadPasscodeError("this meeting needs a passcode")
        raise _PasscodeNeeded(m.id, m.passcode_hash)

    if principal is None:
        if not m.allow_guests:
            raise ForbiddenError("this meeting does not allow guests; log in to join", field="displayName")
        if name is None:
            raise BadInputError("displayName", "displayName is required to join as a guest")
        principal = GuestPrincipal(guest_id=new_id(), display_name=name, client_id=client.client_id)
    elif isinstance(principal, GuestPrincipal) and not m.allow_guests:
        raise ForbiddenError("this meeting does not allow guests; log in to join")
    if not (p is not None and p.state in LIVE_STATES):  # those already in were checked when they came in
        sso_access.check_join(
            svc.settings, required_provider=view.sso_provider, member=view.sso_member, is_owner=is_owner
        )

    if p is None:
        if isinstance(principal, UserPrincipal):
            assert user is not None
            role = Role.HOST if is_owner else Role.PARTICIPANT
            p = Participant(id=new_id(), meeting_id=m.id, user_id=user.id, display_name=name or user.display_name)
        else:
            role = Role.GUEST
            p = Participant(
                id=new_id(),
                meeting_id=m.id,
                guest_id=principal.guest_id,
                display_name=name or principal.display_name,
            )
        p.role = role.value
        p.state = "new"  # not in the session yet: inserted by _enter, in the state decided below
        p.client_id, p.client_addr = client.client_id, client.address_mark
    elif p.state in LIVE_STATES:
        return _Joined(p, m, p.state, principal)  # a second tab or a retry: same answer, no new events
    else:
        if name:
            p.display_name = name
        p.client_id, p.client_addr = client.client_id, client.address_mark
        if is_owner and p.role != Role.HOST and not here.host_here:
            p.role = Role.HOST.value
    role = Role(p.role)
    privileged = role in (Role.HOST, Role.COHOST)

    if m.locked and not privileged:
        raise MeetingLockedError("the host has locked this meeting")
    if not privileged and here.admitted + 1 > m.max_participants:
        raise MeetingFullError(f"meeting is full ({m.max_participants} participants)")
    p.audio_muted = p.muted_by_host = p.unmute_requested = False
    p.video_on = p.video_stopped_by_host = p.sharing = False

    if role is Role.HOST:
        await _go_live(tx, m)
        await _admit(tx, m, p, None)
        # Those who arrived before the host (and had no waiting room to pass) come in with the host, as far as
        # capacity allows; the rest stay waiting for the host to admit them.
        await _admit_waiting(tx, m, p, reason="host_absent")
        return _Joined(p, m, "admitted", principal)

    host_here = here.host_here
    # Guests wait when the meeting says so, and always when someone the host blocked joined from their address
    # (the block cannot follow a client that threw its identity away; the host decides instead).
    guest_waits = role is Role.GUEST and (m.guest_waiting_room or here.address_blocked)
    if (m.waiting_room or guest_waits) and not privileged:
        reason: str | None = "waiting_room"
    elif not host_here and not m.join_before_host and not privileged:
        reason = "host_absent"
    else:
        reason = None
    if reason is not None:
        p.waiting_reason = reason
        await _enter(tx, p, "waiting")
        await emit_participant(tx, p, EventType.PARTICIPANT_WAITING, audience=Audience.HOSTS)
        return _Joined(p, m, "waiting", principal)
    await _go_live(tx, m)
    await _admit(tx, m, p, None)
    return _Joined(p, m, "admitted", principal)


async def _go_live(tx: Tx, m: Meeting) -> None:
    if m.status == "live":
        return
    m.status, m.started_at = "live", utcnow()
    await emit_meeting(tx, m, EventType.MEETING_STARTED, None)
    for hook in meeting_start_hooks:
        await hook(tx, m)


async def refresh_ticket(
    svc: Services, principal: Principal | None, meeting_id: str, probe: EdgeProbe | None = None
) -> JoinTicket:
    if principal is None:
        raise UnauthenticatedError("log in or join as a guest first")
    async with svc.db.read() as session:
        m = await session.get(Meeting, meeting_id)
        p = await store.by_principal(session, meeting_id, principal) if m else None
    if m is None or p is None:
        raise NotFoundError(f"you are not a participant of meeting {meeting_id}")
    if p.state != "admitted":
        raise ForbiddenError(f"you are {p.state}, not admitted")
    return await ticket_for(svc, m, p, probe)


async def leave(svc: Services, principal: Principal | None, meeting_id: str) -> Participant:
    if principal is None:
        raise UnauthenticatedError("log in or join as a guest first")
    async with svc.db.write() as tx:
        m = await load_meeting(tx, meeting_id)
        p = await store.by_principal(tx.session, m.id, principal)
        if p is None or p.state not in LIVE_STATES:
            raise ConflictError("you are not in this meeting")
        was_host = p.role == Role.HOST
        _set_state(tx, p, "left")
        await emit_participant(tx, p, EventType.PARTICIPANT_LEFT, actor=p)
        if was_host:
            # Hand the meeting to a co-host so someone can still run it; the owner gets it back on return.
            cohosts = [c for c in await store.in_states(tx.session, m.id, ["admitted"]) if c.role == Role.COHOST]
            if cohosts:
                p.role = Role.PARTICIPANT.value if p.user_id else Role.GUEST.value
                cohosts[0].role = Role.HOST.value
                await emit_participant(tx, cohosts[0], EventType.PARTICIPANT_UPDATED, actor=p)
        if m.spotlight_participant_id == p.id:
            m.spotlight_participant_id = None
            await emit_meeting(tx, m, EventType.MEETING_UPDATED, p)
    return p


# -- the participant's own media and hand ----------------------------------------------------------------


async def update_my_media(
    svc: Services,
    principal: Principal | None,
    meeting_id: str,
    *,
    audio_muted: bool | None = None,
    video_on: bool | None = None,
    sharing: bool | None = None,
) -> Participant:
    async with svc.db.write() as tx:
        a = await acting(tx, meeting_id, principal)
        p = a.participant
        if p is None or p.state != "admitted":
            raise ForbiddenError("join the meeting first")
        privileged = a.role in (Role.HOST, Role.COHOST)
        if audio_muted is False and p.audio_muted and p.muted_by_host and not privileged:
            if not a.meeting.allow_self_unmute and not p.unmute_requested:
                raise ForbiddenError("the host muted you and does not allow unmuting yourself; ask the host")
        if sharing and not privileged and a.meeting.host_only_screen_share:
            raise ForbiddenError("only the host and co-hosts may share their screen in this meeting")
        if audio_muted is not None:
            p.audio_muted = audio_muted
            if not audio_muted:
                p.muted_by_host = p.unmute_requested = False
        if video_on is not None:
            p.video_on = video_on
            if video_on:
                p.video_stopped_by_host = False
        if sharing is not None:
            p.sharing = sharing
        await emit_participant(tx, p, EventType.PARTICIPANT_UPDATED, actor=p)
    return p


def may_record_locally(m: Meeting, p: Participant) -> bool:
    """Hosts and co-hosts always; others when the meeting lets everyone, or the host let them."""
    return Role(p.role) in (Role.HOST, Role.COHOST) or m.allow_local_recording or p.local_recording_granted


async def stop_unpermitted_local_recordings(tx: Tx, m: Meeting, actor: Participant | None) -> None:
    """After a permission was withdrawn: whoever may no longer record is stopped, and everyone is told."""
    for p in await store.in_states(tx.session, m.id, ["admitted"]):
        if p.recording_locally and not may_record_locally(m, p):
            p.recording_locally = False
            await emit_participant(tx, p, EventType.LOCAL_RECORDING_STOPPED, actor=actor)


async def set_local_recording(
    svc: Services, principal: Principal | None, meeting_id: str, recording: bool
) -> Participant:
    """Say that you start or stop recording the meeting on your device. Starting needs the host's permission;
    either way everyone is told (an event, and a banner in the web client)."""
    async with svc.db.write() as tx:
        a = await acting(tx, meeting_id, principal)
        p = a.participant
        if p is None or p.state != "admitted":
            raise ForbiddenError("join the meeting first")
        if recording and not may_record_locally(a.meeting, p):
            raise ForbiddenError("the host has not allowed you to record this meeting")
        if p.recording_locally != recording:
            p.recording_locally = recording
            kind = EventType.LOCAL_RECORDING_STARTED if recording else EventType.LOCAL_RECORDING_STOPPED
            await emit_participant(tx, p, kind, actor=p)
    return p


async def set_hand(svc: Services, principal: Principal | None, meeting_id: str, raised: bool) -> Participant:
    async with svc.db.write() as tx:
        a = await acting(tx, meeting_id, principal)
        p = a.participant
        if p is None or p.state != "admitted":
            raise ForbiddenError("join the meeting first")
        if raised and p.hand_raised_at is None:
            p.hand_raised_at = utcnow()
        elif not raised:
            p.hand_raised_at = None
        await emit_participant(tx, p, EventType.PARTICIPANT_UPDATED, actor=p)
    return p


# -- host controls ----------------------------------------------------------------------------------------


async def control(
    svc: Services,
    principal: Principal | None,
    action: Action,
    *,
    participant_id: str | None = None,
    meeting_id: str | None = None,
    flag: bool | None = None,
    text: str | None = None,
) -> Participant | Meeting:
    """Run one host control. Targeted actions name ``participant_id``; meeting-wide ones ``meeting_id``."""
    if principal is None:  # before any lookup, so anonymous callers learn nothing about which ids exist
        raise UnauthenticatedError("log in or join as a guest first")
    if participant_id is not None and meeting_id is None:
        async with svc.db.read() as session:
            t0 = await store.by_id(session, participant_id)
        if t0 is None:
            raise NotFoundError(f"participant {participant_id} does not exist")
        meeting_id = t0.meeting_id
    if meeting_id is None:
        raise BadInputError("meetingId", "meetingId is required")
    if text is not None:
        text = validation.display_name("displayName", text)
    async with svc.db.write() as tx:
        a = await acting(tx, meeting_id, principal)
        renaming_self = action is Action.RENAME and a.participant is not None and a.participant.id == participant_id
        if not renaming_self:  # anyone may change their own name
            check(action, a.role)
        ensure_running(a.meeting)
        result: Participant | Meeting = await _HANDLERS[action](tx, a, participant_id, flag, text)
    return result


async def _target_checked(tx: Tx, a: Acting, action: Action, participant_id: str | None, *states: str) -> Participant:
    if participant_id is None:
        raise BadInputError("participantId", "participantId is required")
    t = await _target(tx, a, participant_id, *states)
    check(action, a.role, Role(t.role))
    return t


async def _h_admit(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Participant:
    t = await _target_checked(tx, a, Action.ADMIT, pid, "waiting")
    await _check_capacity(tx, a.meeting, Role(t.role))
    await _admit(tx, a.meeting, t, a.participant)
    return t


async def _h_deny(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Participant:
    t = await _target_checked(tx, a, Action.DENY, pid, "waiting")
    _set_state(tx, t, "denied")
    await emit_participant(tx, t, EventType.PARTICIPANT_DENIED, actor=a.participant, audience=Audience.HOSTS)
    return t


async def _admit_waiting(tx: Tx, m: Meeting, actor: Participant | None, reason: str | None = None) -> None:
    """Admit those waiting (for ``reason``, or all) in arrival order while there is room; the rest keep waiting."""
    room = m.max_participants - await store.count_admitted(tx.session, m.id)
    for w in await store.in_states(tx.session, m.id, ["waiting"]):
        if reason is not None and w.waiting_reason != reason:
            continue
        privileged = w.role in (Role.HOST, Role.COHOST)
        if not privileged and room <= 0:
            continue
        await _admit(tx, m, w, actor)
        room -= 0 if privileged else 1


async def _h_admit_all(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Meeting:
    await _admit_waiting(tx, a.meeting, a.participant)
    return a.meeting


async def _h_deny_all(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Meeting:
    for w in await store.in_states(tx.session, a.meeting.id, ["waiting"]):
        _set_state(tx, w, "denied")
        await emit_participant(tx, w, EventType.PARTICIPANT_DENIED, actor=a.participant, audience=Audience.HOSTS)
    return a.meeting


async def _h_mute(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Participant:
    t = await _target_checked(tx, a, Action.MUTE, pid, "admitted")
    t.audio_muted = t.muted_by_host = True
    t.unmute_requested = False
    await emit_participant(tx, t, EventType.PARTICIPANT_UPDATED, actor=a.participant)
    return t


async def _h_mute_all(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Meeting:
    muted: list[str] = []
    for p in await store.in_states(tx.session, a.meeting.id, ["admitted"]):
        if p.role in (Role.HOST, Role.COHOST):
            continue
        p.audio_muted = p.muted_by_host = True
        p.unmute_requested = False
        muted.append(p.id)
    if flag is not None:
        a.meeting.allow_self_unmute = flag
    await tx.emit(
        a.meeting.id,
        EventType.ALL_MUTED,
        actor_id=a.participant.id if a.participant else None,
        meeting=meeting_snapshot(a.meeting),
        data={"participantIds": muted},
    )
    return a.meeting


async def _h_ask_unmute(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Participant:
    t = await _target_checked(tx, a, Action.ASK_UNMUTE, pid, "admitted")
    t.unmute_requested = True
    await emit_participant(tx, t, EventType.UNMUTE_REQUESTED, actor=a.participant, audience=Audience.SUBJECT)
    return t


async def _h_stop_video(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Participant:
    t = await _target_checked(tx, a, Action.STOP_VIDEO, pid, "admitted")
    t.video_on = False
    t.video_stopped_by_host = True
    await emit_participant(tx, t, EventType.PARTICIPANT_UPDATED, actor=a.participant)
    return t


async def _h_remove(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Participant:
    t = await _target_checked(tx, a, Action.REMOVE, pid, "admitted", "waiting")
    if a.participant is not None and t.id == a.participant.id:
        raise BadInputError("participantId", "you cannot remove yourself; leave instead")
    _set_state(tx, t, "removed")
    t.blocked = flag is not False
    await emit_participant(tx, t, EventType.PARTICIPANT_REMOVED, actor=a.participant)
    if a.meeting.spotlight_participant_id == t.id:
        a.meeting.spotlight_participant_id = None
        await emit_meeting(tx, a.meeting, EventType.MEETING_UPDATED, a.participant)
    return t


async def _h_lock(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Meeting:
    a.meeting.locked = True
    await emit_meeting(tx, a.meeting, EventType.MEETING_UPDATED, a.participant)
    return a.meeting


async def _h_unlock(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Meeting:
    a.meeting.locked = False
    await emit_meeting(tx, a.meeting, EventType.MEETING_UPDATED, a.participant)
    return a.meeting


async def _h_make_cohost(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Participant:
    t = await _target_checked(tx, a, Action.MAKE_COHOST, pid, "admitted")
    if t.role == Role.HOST:
        raise ConflictError("the host is already in charge")
    t.role = Role.COHOST.value
    await emit_participant(tx, t, EventType.PARTICIPANT_UPDATED, actor=a.participant)
    return t


async def _h_revoke_cohost(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Participant:
    t = await _target_checked(tx, a, Action.REVOKE_COHOST, pid, "admitted", "waiting", "left")
    if t.role != Role.COHOST:
        raise ConflictError(f"participant {t.id} is not a co-host")
    t.role = Role.PARTICIPANT.value if t.user_id else Role.GUEST.value
    await emit_participant(tx, t, EventType.PARTICIPANT_UPDATED, actor=a.participant)
    return t


async def _h_transfer_host(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Participant:
    t = await _target_checked(tx, a, Action.TRANSFER_HOST, pid, "admitted")
    if t.user_id is None:
        raise BadInputError("participantId", "a guest cannot become host; they must log in first")
    if a.participant is not None and t.id == a.participant.id:
        raise BadInputError("participantId", "you are the host already")
    for p in await store.in_states(tx.session, a.meeting.id, ["admitted", "waiting", "left"]):
        if p.role == Role.HOST and p.id != t.id:
            p.role = Role.PARTICIPANT.value if p.user_id else Role.GUEST.value
            await emit_participant(tx, p, EventType.PARTICIPANT_UPDATED, actor=a.participant)
    t.role = Role.HOST.value
    await emit_participant(tx, t, EventType.PARTICIPANT_UPDATED, actor=a.participant)
    return t


async def _h_spotlight(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Meeting:
    if pid is not None:
        t = await _target_checked(tx, a, Action.SPOTLIGHT, pid, "admitted")
        a.meeting.spotlight_participant_id = t.id
    else:
        a.meeting.spotlight_participant_id = None
    await emit_meeting(tx, a.meeting, EventType.MEETING_UPDATED, a.participant)
    return a.meeting


async def _h_rename(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Participant:
    if a.participant is not None and pid == a.participant.id:
        t = a.participant
    else:
        t = await _target_checked(tx, a, Action.RENAME, pid, "admitted", "waiting")
    assert text is not None
    t.display_name = text
    await emit_participant(tx, t, EventType.PARTICIPANT_UPDATED, actor=a.participant)
    return t


async def _h_lower_hand(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Participant:
    t = await _target_checked(tx, a, Action.LOWER_HAND, pid, "admitted")
    t.hand_raised_at = None
    await emit_participant(tx, t, EventType.PARTICIPANT_UPDATED, actor=a.participant)
    return t


async def _h_lower_all_hands(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Meeting:
    lowered = []
    for p in await store.in_states(tx.session, a.meeting.id, ["admitted"]):
        if p.hand_raised_at is not None:
            p.hand_raised_at = None
            lowered.append(p.id)
    await tx.emit(
        a.meeting.id,
        EventType.HANDS_LOWERED,
        actor_id=a.participant.id if a.participant else None,
        data={"participantIds": lowered},
    )
    return a.meeting


async def _h_set_waiting_room(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Meeting:
    a.meeting.waiting_room = bool(flag)
    await emit_meeting(tx, a.meeting, EventType.MEETING_UPDATED, a.participant)
    if not flag:  # turning the waiting room off lets in whoever it held (capacity permitting)
        await _admit_waiting(tx, a.meeting, a.participant, reason="waiting_room")
    return a.meeting


async def _h_set_self_unmute(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Meeting:
    a.meeting.allow_self_unmute = bool(flag)
    await emit_meeting(tx, a.meeting, EventType.MEETING_UPDATED, a.participant)
    return a.meeting


async def _h_grant_local_recording(
    tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None
) -> Participant:
    t = await _target_checked(tx, a, Action.GRANT_LOCAL_RECORDING, pid, "admitted", "waiting")
    if t.local_recording_granted != bool(flag):
        t.local_recording_granted = bool(flag)
        await emit_participant(tx, t, EventType.PARTICIPANT_UPDATED, actor=a.participant)
        await stop_unpermitted_local_recordings(tx, a.meeting, a.participant)
    return t


async def _h_end(tx: Tx, a: Acting, pid: str | None, flag: bool | None, text: str | None) -> Meeting:
    await end_in_tx(tx, a.meeting, a.participant)
    return a.meeting


MeetingStartHook = Callable[[Tx, Meeting], Awaitable[None]]
meeting_start_hooks: list[MeetingStartHook] = []
"""Domains register here what a meeting going live means for them (auto-recording); hooks run in the starting
transaction, after MEETING_STARTED is emitted."""

MeetingEndHook = Callable[[Tx, Meeting, Participant | None], Awaitable[None]]
meeting_end_hooks: list[MeetingEndHook] = []
"""Domains built on meetings (polls, breakout rooms) register here what a meeting's end means for them; hooks
run in the ending transaction, before MEETING_ENDED is emitted, so their events precede it."""


async def end_in_tx(tx: Tx, m: Meeting, actor: Participant | None) -> None:
    for hook in meeting_end_hooks:
        await hook(tx, m, actor)
    for p in await store.in_states(tx.session, m.id, LIVE_STATES):
        _set_state(tx, p, "left")
    # A series goes back to "scheduled" for its next occurrence; a one-off meeting is over for good.
    m.status = "scheduled" if m.recurrence else "ended"
    m.ended_at = utcnow()
    m.locked = False
    m.spotlight_participant_id = None
    await tx.emit(m.id, EventType.MEETING_ENDED, actor_id=actor.id if actor else None, meeting=meeting_snapshot(m))


_HANDLERS: dict[
    Action, Callable[[Tx, Acting, str | None, bool | None, str | None], Awaitable[Participant | Meeting]]
] = {
    Action.ADMIT: _h_admit,
    Action.DENY: _h_deny,
    Action.ADMIT_ALL: _h_admit_all,
    Action.DENY_ALL: _h_deny_all,
    Action.MUTE: _h_mute,
    Action.MUTE_ALL: _h_mute_all,
    Action.ASK_UNMUTE: _h_ask_unmute,
    Action.STOP_VIDEO: _h_stop_video,
    Action.REMOVE: _h_remove,
    Action.LOCK: _h_lock,
    Action.UNLOCK: _h_unlock,
    Action.MAKE_COHOST: _h_make_cohost,
    Action.REVOKE_COHOST: _h_revoke_cohost,
    Action.TRANSFER_HOST: _h_transfer_host,
    Action.SPOTLIGHT: _h_spotlight,
    Action.RENAME: _h_rename,
    Action.LOWER_HAND: _h_lower_hand,
    Action.LOWER_ALL_HANDS: _h_lower_all_hands,
    Action.SET_WAITING_ROOM: _h_set_waiting_room,
    Action.SET_SELF_UNMUTE: _h_set_self_unmute,
    Action.END_MEETING: _h_end,
    Action.GRANT_LOCAL_RECORDING: _h_grant_local_recording,
}
