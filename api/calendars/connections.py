"""A user's connected calendar (CalDAV): the rules GraphQL and REST share.

Connecting checks the URL with the webhooks' address guard (public addresses only unless the operator's
``API_WEBHOOK_ALLOWED_NETWORKS`` allows a network), then asks the server (PROPFIND) whether these credentials
read a calendar collection there: a typo or a wrong password is an error now, not a silent failure later. The
password is stored sealed (``Credentials.seal_secret``) and never returned. Once connected, every scheduled
meeting the user hosts is written there and kept in step (``api/calendars/sync.py``).

Only an account's own session may connect or disconnect (not an API key): a key is for programs acting on
meetings, and a calendar password is the account's own; the connection's state may be read with either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from api.calendars import sync
from api.calendars.provider import provider_for
from api.errors import BadInputError, ForbiddenError, NotFoundError, UnauthenticatedError
from api.security import Principal, UserPrincipal
from api.services import Services
from api.webhooks.service import check_url
from dbschema.calendars import CalendarConnection, CalendarSyncItem
from dbschema.models import utcnow
from protocol.calendars import CalendarOp, CalendarProblem, CalendarRequest
from protocol.ids import new_id

MAX_USERNAME = 256
MAX_PASSWORD = 512
CONNECTS_PER_MINUTE = 10
"""Each connect resolves a host and makes a request to it: bounded per account."""


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """What the user sees of their connection: never the password."""

    id: str
    provider: str
    url: str
    username: str
    created_at: datetime
    last_synced_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    pending: int
    """Entries still to write (including those waiting for a retry)."""
    failed: int
    """Entries given up after every retry failed (written again on the meeting's next change or a reconnect)."""


def _user(principal: Principal | None) -> UserPrincipal:
    if not isinstance(principal, UserPrincipal):
        raise UnauthenticatedError("log in to connect a calendar")
    return principal


def _session_user(principal: Principal | None) -> str:
    p = _user(principal)
    if p.key_id is not None:
        raise ForbiddenError("API keys cannot connect or disconnect calendars; use the account's own session")
    return p.user_id


async def _view(svc: Services, user_id: str) -> ConnectionView | None:
    async with svc.db.read() as session:
        conn = await session.scalar(select(CalendarConnection).where(CalendarConnection.user_id == user_id))
        if conn is None:
            return None
        counts = dict(
            (
                await session.execute(
                    select(CalendarSyncItem.status, func.count())
                    .where(CalendarSyncItem.connection_id == conn.id)
                    .group_by(CalendarSyncItem.status)
                )
            ).all()
        )
    return ConnectionView(
        id=conn.id,
        provider=conn.provider,
        url=conn.url,
        username=conn.username,
        created_at=conn.created_at,
        last_synced_at=conn.last_synced_at,
        last_error=conn.last_error,
        last_error_at=conn.last_error_at,
        pending=int(counts.get("pending", 0)),
        failed=int(counts.get("failed", 0)),
    )


async def connection(svc: Services, principal: Principal | None) -> ConnectionView | None:
    return await _view(svc, _user(principal).user_id)


async def connect(svc: Services, principal: Principal | None, url: str, username: str, password: str) -> ConnectionView:
    """Connect (or replace) the caller's calendar; every scheduled meeting they host is then written there."""
    user_id = _session_user(principal)
    await svc.limit("calendar-connect", user_id, limit=CONNECTS_PER_MINUTE, window_s=60)
    url = await check_url(
        svc, url, what="calendars", credentials_hint="give the username and password in their own fields"
    )
    username = username.strip()
    if not 1 <= len(username) <= MAX_USERNAME:
        raise BadInputError("username", f"username must be 1..{MAX_USERNAME} characters (got {len(username)})")
    if not 1 <= len(password) <= MAX_PASSWORD:
        raise BadInputError("password", f"password must be 1..{MAX_PASSWORD} characters (got {len(password)})")
    s = svc.settings
    check = CalendarRequest(
        CalendarOp.CHECK,
        url,
        username,
        password,
        allowed_networks=s.webhook_allowed_networks,
        timeout_s=s.calendar_timeout_s,
    )
    result = await provider_for(s.calendar_provider).call(check)
    if result.problem is CalendarProblem.AUTH:
        raise ForbiddenError(f"{result.detail}; check the username and the password (or app password)")
    if result.problem is not None:
        raise BadInputError("url", f"cannot use this calendar: {result.detail}")
    async with svc.db.write() as tx:
        old = await tx.session.scalar(
            select(CalendarConnection).where(CalendarConnection.user_id == user_id).with_for_update()
        )
        if old is not None:
            # A new URL or new credentials: start again (entries written to the old calendar stay there).
            await tx.session.delete(old)
            await tx.session.flush()
        conn = CalendarConnection(
            id=new_id(),
            user_id=user_id,
            provider="caldav",
            url=url,
            username=username,
            created_at=utcnow(),
        )
        conn.secret_sealed = svc.creds.seal_secret(sync.SECRET_PURPOSE, conn.id, password)
        tx.session.add(conn)
        await tx.session.flush()
        await sync.queue_all(tx, conn)
    view = await _view(svc, user_id)
    assert view is not None
    return view


async def disconnect(svc: Services, principal: Principal | None) -> None:
    """Forget the connection and its credentials; entries already written stay in that calendar."""
    user_id = _session_user(principal)
    async with svc.db.write() as tx:
        gone = await tx.session.execute(delete(CalendarConnection).where(CalendarConnection.user_id == user_id))
        if gone.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFoundError("no calendar is connected")
