"""Writing and reading the audit log.

Host actions are derived from the events their transactions emit (``api.db.emit_hooks``; rules in
``derive.py``), so every domain that emits events with an actor is covered without calling us, and the audit row
commits or rolls back with the action. What emits no event calls ``record`` (share links, recording playback)
or the sign-in functions. Reads: the meeting's owner reads its log, a user their own sign-ins; nobody else.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from api import validation
from api.audit import store
from api.audit.derive import Derived, derive
from api.audit.request import caller
from api.db import Changes, Database, Tx, emit_hooks
from api.errors import BadInputError, NotFoundError, UnauthenticatedError
from api.security import GuestPrincipal, Principal, UserPrincipal
from api.services import Services
from dbschema.audit import AuditEntry
from dbschema.models import Meeting, Participant, User, utcnow
from protocol.events import EventType, MeetingEvent

MAX_TARGET_IDS = 200
"""A bulk action (admit all) lists at most this many targets in ``details.targetIds``; ``details.count`` is exact."""
_SELF_JOIN = "audit:self-join"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # user | guest | anonymous | system
    user_id: str | None = None
    participant_id: str | None = None
    name: str | None = None


# -- writing -------------------------------------------------------------------------------------------------


def _address() -> str | None:
    c = caller()
    return c.address[:64] if c is not None and c.address else None


def _principal() -> Principal | None:
    c = caller()
    return c.principal if c is not None else None


async def _role_at_start(tx: Tx, participant_id: str, changes: Changes) -> str | None:
    """The actor's role when the transaction began (a transfer demotes the old host in the same transaction)."""
    key = ("audit:role", participant_id)
    if key not in tx.notes:
        p = await tx.session.get(Participant, participant_id)
        diff = changes.get(("participants", participant_id), {})
        tx.notes[key] = diff["role"][0] if "role" in diff else (p.role if p is not None else None)
    role: str | None = tx.notes[key]
    return role


async def _is_self_join(tx: Tx, ev: MeetingEvent) -> bool:
    """A join (the caller's own admission or wait): what it sets off (those waiting for the host come in with
    them) is not a host action."""
    if ev.actor_id is not None or ev.type not in (EventType.PARTICIPANT_ADMITTED, EventType.PARTICIPANT_WAITING):
        return False
    principal = _principal()
    p = await tx.session.get(Participant, ev.subject_id) if ev.subject_id else None
    if p is None or principal is None:
        return principal is None  # no request (a sweeper): nobody's deliberate action either
    if isinstance(principal, UserPrincipal):
        return p.user_id == principal.user_id
    return p.guest_id == principal.guest_id


async def _owner_outside(tx: Tx, meeting_id: str) -> str | None:
    """The caller's user id when they own the meeting (owners manage it from outside the call, actor None)."""
    principal = _principal()
    if not isinstance(principal, UserPrincipal):
        return None
    m = await tx.session.get(Meeting, meeting_id)
    return principal.user_id if m is not None and m.host_user_id == principal.user_id else None


async def _caller_actor(tx: Tx) -> Actor:
    """The request's caller; SYSTEM outside requests (sweepers, recording processing)."""
    principal = _principal()
    if isinstance(principal, UserPrincipal):
        u = await tx.session.get(User, principal.user_id)
        return Actor("user", principal.user_id, None, u.display_name if u else None)
    if isinstance(principal, GuestPrincipal):
        return Actor("guest", None, None, principal.display_name)
    return Actor("anonymous" if caller() is not None else "system")


async def _actor_of(tx: Tx, ev: MeetingEvent) -> Actor:
    if ev.actor_id is not None:
        p = await tx.session.get(Participant, ev.actor_id)
        if p is not None:
            kind = "user" if p.user_id else "guest"
            return Actor(kind, p.user_id, p.id, p.display_name)
    return await _caller_actor(tx)


def _row(
    action: str,
    actor: Actor,
    *,
    meeting_id: str | None = None,
    user_id: str | None = None,
    target_kind: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    return AuditEntry(
        at=at or utcnow(),
        action=action,
        meeting_id=meeting_id,
        user_id=user_id,
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        actor_participant_id=actor.participant_id,
        actor_name=actor.name[:64] if actor.name else None,
        client_address=_address(),
        target_kind=target_kind,
        target_id=target_id,
        details=details or {},
    )


def _fold(tx: Tx, d: Derived, make: Any) -> None:
    key = ("audit:row", d.category)
    held: tuple[int, AuditEntry] | None = tx.notes.get(key)
    if held is None:
        tx.notes[key] = (d.priority, make())
        return
    priority, row = held
    if row.action == d.action and d.target_id and d.target_id != row.target_id:
        ids = list(row.details.get("targetIds") or [row.target_id])
        count = int(row.details.get("count", len(ids))) + 1
        if len(ids) < MAX_TARGET_IDS:
            ids.append(d.target_id)
        row.details = {**row.details, "targetIds": ids, "count": count}  # a new dict: JSON columns track assignment
    elif d.priority > priority:
        row.action, row.target_kind, row.target_id, row.details = d.action, d.target_kind, d.target_id, d.details
        tx.notes[key] = (d.priority, row)


async def on_emit(tx: Tx, ev: MeetingEvent, changes: Changes) -> None:
    if await _is_self_join(tx, ev):
        tx.notes[_SELF_JOIN] = True
    in_charge = False
    if not tx.notes.get(_SELF_JOIN):
        if ev.actor_id is not None:
            in_charge = await _role_at_start(tx, ev.actor_id, changes) in ("host", "cohost")
        else:
            in_charge = await _owner_outside(tx, ev.meeting_id) is not None
    d = derive(ev, changes, in_charge=in_charge)
    if d is None:
        return
    actor = await _actor_of(tx, ev)

    def make() -> AuditEntry:
        row = _row(
            d.action,
            actor,
            meeting_id=ev.meeting_id,
            target_kind=d.target_kind,
            target_id=d.target_id,
            details=dict(d.details),
        )
        tx.session.add(row)
        return row

    _fold(tx, d, make)


emit_hooks.append(on_emit)


async def record(
    tx: Tx,
    action: str,
    *,
    meeting_id: str | None,
    actor: Actor | None = None,
    target_kind: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Log an action that emits no event, in the caller's transaction. The actor defaults to the caller."""
    if actor is None:
        actor = await _caller_actor(tx)
    tx.session.add(
        _row(action, actor, meeting_id=meeting_id, target_kind=target_kind, target_id=target_id, details=details)
    )


async def signed_in(db: Database, user: User) -> None:
    async with db.write() as tx:
        tx.session.add(
            _row(
                "account.signed_in",
                Actor("user", user.id, None, user.display_name),
                user_id=user.id,
                target_kind="account",
                target_id=user.id,
            )
        )


async def sign_in_failed(db: Database, user: User | None) -> None:
    """A wrong password. For an email with no account the row is written all the same (same cost, so timing
    tells nothing) but belongs to nobody and names no email: it cannot be read back to probe for accounts."""
    async with db.write() as tx:
        tx.session.add(
            _row(
                "account.sign_in_failed",
                Actor("anonymous"),
                user_id=user.id if user is not None else None,
                target_kind="account" if user is not None else None,
                target_id=user.id if user is not None else None,
            )
        )


async def prune(svc: Services, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(days=svc.settings.audit_retention_days)
    async with svc.db.write() as tx:
        return await store.prune(tx.session, cutoff)


# -- reading -------------------------------------------------------------------------------------------------

_CURSOR = re.compile(r"audit\|([0-9]{1,18})")
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What our ids look like (``protocol.ids.new_id``); anything else is refused before it reaches SQL (PostgreSQL
rejects a NUL byte in text outright)."""


def encode_cursor(pos: int) -> str:
    return base64.urlsafe_b64encode(f"audit|{pos}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        m = _CURSOR.fullmatch(base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii"))
    except (ValueError, UnicodeError, binascii.Error):
        m = None
    if m is None:
        raise BadInputError("after", "after is not a cursor returned by this API")
    return int(m.group(1))


@dataclass(frozen=True, slots=True)
class Page:
    entries: list[AuditEntry]
    next_cursor: str | None
    viewer_id: str
    """Client addresses are shown only on the viewer's own actions: a host sees what co-hosts did, not where from."""


async def _page(rows: list[AuditEntry], first: int, viewer_id: str) -> Page:
    page = rows[:first]
    return Page(page, encode_cursor(page[-1].pos) if len(rows) > first else None, viewer_id)


def _user(principal: Principal | None) -> str:
    if not isinstance(principal, UserPrincipal):
        raise UnauthenticatedError("log in to read an audit log")
    return principal.user_id


async def meeting_log(
    svc: Services, principal: Principal | None, meeting_id: str, *, first: int, after: str | None
) -> Page:
    """Newest first. The owner only: anyone else, co-hosts included, hears NOT_FOUND exactly as for a meeting
    that does not exist, so the answer tells a stranger nothing."""
    user_id = _user(principal)
    validation.int_range("first", first, 1, 100)
    if not _ID.fullmatch(meeting_id):
        raise BadInputError("meetingId", "meetingId is not a meeting id")
    before = decode_cursor(after) if after else None
    async with svc.db.read() as session:
        m = await session.get(Meeting, meeting_id)
        if m is None or m.host_user_id != user_id:
            raise NotFoundError(f"no audit log of meeting {meeting_id} for you")
        rows = await store.page_for_meeting(session, meeting_id, before=before, limit=first + 1)
    return await _page(rows, first, user_id)


async def my_log(svc: Services, principal: Principal | None, *, first: int, after: str | None) -> Page:
    """The caller's own account events (sign-ins and failed ones), newest first."""
    user_id = _user(principal)
    validation.int_range("first", first, 1, 100)
    before = decode_cursor(after) if after else None
    async with svc.db.read() as session:
        rows = await store.page_for_user(session, user_id, before=before, limit=first + 1)
    return await _page(rows, first, user_id)
