"""Keeping connected calendars in step: a durable outbox of entries to write, and the loop that writes them.

``queue`` runs inside the transaction of the meeting's change (create, update, skip, options, cancel), so the
write to do commits or rolls back with the change; the loop (one per API process, like the webhook dispatcher)
claims due rows with a lease, asks the ``CalendarProvider`` to PUT the meeting's *current* entry, and records the
outcome. A slow or dead calendar server therefore never holds a request, several changes collapse into one write,
and a failure is retried on ``calendar_retry_schedule_s`` and shown to the user (``lastError``, ``lastSyncedAt``).

Cancel: the entry is rewritten with ``STATUS:CANCELLED`` and a higher SEQUENCE (RFC 5545 section 3.8.1.11), not
deleted: the user's calendar shows the meeting as cancelled (most apps strike it through) rather than having it
vanish unnoticed; it is what the feed and the iMIP CANCEL say too. Entries carry no ATTENDEEs: a server doing
implicit scheduling (RFC 6638 section 3.2) would otherwise mail its own invitations besides ours.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from api.calendars import entries, store
from api.calendars.ics import calendar
from api.db import Tx
from api.services import Services
from dbschema.calendars import CalendarConnection, CalendarSyncItem
from dbschema.models import Meeting, utcnow
from protocol.calendars import CalendarOp, CalendarProblem, CalendarProvider, CalendarRequest, CalendarResult

log = logging.getLogger("meetmesh.calendars")

SECRET_PURPOSE = "calendar-connection"
LEASE_S = 90.0
"""Longer than one write can take (``calendar_timeout_s`` bounded by the settings, twice for a trickle)."""
CONCURRENCY = 8
MAX_INITIAL = 500
"""Meetings written when a calendar is connected (the newest first), as the feed's bound."""

_wakers: set[Callable[[], None]] = set()


def _wake_all() -> None:
    for wake in list(_wakers):
        wake()


async def _queue_row(tx: Tx, connection_id: str, meeting_id: str) -> None:
    now = utcnow()
    item = await tx.session.get(CalendarSyncItem, (connection_id, meeting_id))
    if item is None:
        tx.session.add(
            CalendarSyncItem(
                connection_id=connection_id,
                meeting_id=meeting_id,
                status="pending",
                version=1,
                attempts=0,
                next_attempt_at=now,
            )
        )
    else:
        item.status = "pending"
        item.version += 1
        item.attempts = 0
        item.next_attempt_at = now
        item.last_error = None
    if _wake_all not in tx.after_commit:
        tx.after_commit.append(_wake_all)


async def queue(tx: Tx, m: Meeting) -> None:
    """The meeting's entry changed (or was created): write it to its host's connected calendar, if any."""
    if m.kind != "scheduled":
        return  # instant meetings are no calendar entries (nor in the feed)
    connection_id = await tx.session.scalar(
        select(CalendarConnection.id).where(CalendarConnection.user_id == m.host_user_id)
    )
    if connection_id is not None:
        await _queue_row(tx, connection_id, m.id)


async def queue_all(tx: Tx, connection: CalendarConnection) -> int:
    """A calendar was connected: write every scheduled meeting its owner hosts that has not ended, and the
    cancelled ones still to come (so a cancel whose write had failed before reconnecting reaches the calendar)."""
    now = utcnow()
    ids = (
        await tx.session.scalars(
            select(Meeting.id)
            .where(
                Meeting.host_user_id == connection.user_id,
                Meeting.kind == "scheduled",
                Meeting.status.in_(("scheduled", "live"))
                | ((Meeting.status == "cancelled") & ((Meeting.starts_at > now) | Meeting.recurrence.is_not(None))),
            )
            .order_by(Meeting.starts_at.desc())
            .limit(MAX_INITIAL)
        )
    ).all()
    for meeting_id in ids:
        await _queue_row(tx, connection.id, meeting_id)
    return len(ids)


@dataclass(frozen=True, slots=True)
class Claimed:
    connection_id: str
    meeting_id: str
    version: int
    sequence: int
    request: CalendarRequest | None
    """None: the password no longer opens (the deployment secret changed): a failure without a request."""


class Syncer:
    def __init__(self, svc: Services, provider: CalendarProvider) -> None:
        self.svc = svc
        self.provider = provider
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self) -> None:
        _wakers.add(self.wake)
        try:
            while True:
                self._wake.clear()
                try:
                    started = await self.start_due()
                except Exception:
                    log.exception("calendar sync failed; retrying")
                    started = 0
                if started:
                    continue
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.svc.settings.calendar_poll_s)
                except TimeoutError:
                    pass
        finally:
            _wakers.discard(self.wake)  # the provider is shared (api/calendars/provider.py): closed at shutdown
            for task in list(self._inflight):
                task.cancel()  # their leases run out and another loop writes them
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def start_due(self) -> int:
        """Start writing due entries, up to CONCURRENCY in flight; returns how many were started.

        The writes run as tasks, not awaited here: one user's calendar server that hangs until the timeout holds
        one slot, not everyone's sync (a freed slot wakes the loop)."""
        free = CONCURRENCY - len(self._inflight)
        if free <= 0:
            return 0
        claimed = await self._claim(free)
        for c in claimed:
            task = asyncio.create_task(self._attempt(c), name=f"calendar-sync:{c.meeting_id}")
            self._inflight.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self.wake()

    async def _claim(self, limit: int) -> list[Claimed]:
        now = utcnow()
        due = (
            (CalendarSyncItem.status == "pending")
            & (CalendarSyncItem.next_attempt_at <= now)
            & (CalendarSyncItem.lease_until.is_(None) | (CalendarSyncItem.lease_until < now))
        )
        # A read first: an idle poll costs no write transaction (on SQLite, no write lock every poll).
        async with self.svc.db.read() as session:
            keys = (
                await session.execute(
                    select(CalendarSyncItem.connection_id, CalendarSyncItem.meeting_id)
                    .where(due)
                    .order_by(CalendarSyncItem.next_attempt_at)
                    .limit(limit)
                )
            ).all()
        if not keys:
            return []
        out: list[Claimed] = []
        async with self.svc.db.write() as tx:
            for cid, mid in keys:
                taken = await tx.session.execute(
                    update(CalendarSyncItem)
                    .where(CalendarSyncItem.connection_id == cid, CalendarSyncItem.meeting_id == mid, due)
                    .values(lease_until=now + timedelta(seconds=LEASE_S))
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another process took it meanwhile
                claimed = await self._request(tx, cid, mid)
                if claimed is not None:
                    out.append(claimed)
        return out

    async def _request(self, tx: Tx, connection_id: str, meeting_id: str) -> Claimed | None:
        s = tx.session
        item = await s.get(CalendarSyncItem, (connection_id, meeting_id), populate_existing=True)
        conn = await s.get(CalendarConnection, connection_id)
        m = await s.get(Meeting, meeting_id)
        if item is None or conn is None or m is None:
            return None
        state = await store.state(s, meeting_id)
        organizer = await store.user(s, m.host_user_id)
        info = entries.entry(self.svc, m, state, organizer)
        password = self.svc.creds.open_secret(SECRET_PURPOSE, conn.id, conn.secret_sealed)
        if password is None:
            return Claimed(connection_id, meeting_id, item.version, info.sequence, None)
        ics = calendar([info], method=None, now=utcnow()).decode()
        req = CalendarRequest(
            op=CalendarOp.PUT,
            url=conn.url,
            username=conn.username,
            password=password,
            uid=info.uid,
            ics=ics,
            allowed_networks=self.svc.settings.webhook_allowed_networks,
            timeout_s=self.svc.settings.calendar_timeout_s,
        )
        return Claimed(connection_id, meeting_id, item.version, info.sequence, req)

    async def _attempt(self, c: Claimed) -> None:
        # The task boundary: nobody awaits this task. Its lease runs out and the write is retried by a later claim.
        try:
            await self._write(c)
        except Exception:
            log.exception("calendar write of meeting %s (connection %s) failed", c.meeting_id, c.connection_id)

    async def _write(self, c: Claimed) -> None:
        if c.request is None:
            result = CalendarResult(
                CalendarProblem.AUTH, "the stored password cannot be read any more: connect the calendar again"
            )
            await self._record(c, result)
            return
        try:
            result = await self.provider.call(c.request)
        except Exception as exc:  # a broken provider (arq down): an attempt failed, not a crashed loop
            log.warning("calendar provider failed for meeting %s: %s", c.meeting_id, exc)
            result = CalendarResult(CalendarProblem.UNREACHABLE, f"provider failed: {type(exc).__name__}"[:300])
        await self._record(c, result)

    async def _record(self, c: Claimed, result: CalendarResult) -> None:
        schedule = self.svc.settings.calendar_retry_schedule_s
        async with self.svc.db.write() as tx:
            item = await tx.session.get(CalendarSyncItem, (c.connection_id, c.meeting_id), populate_existing=True)
            conn = await tx.session.get(CalendarConnection, c.connection_id)
            if item is None or conn is None:
                return  # disconnected (or the meeting deleted) meanwhile
            now = utcnow()
            item.lease_until = None
            changed_since = item.version != c.version
            if result.ok:
                conn.last_synced_at = now
                conn.last_error = None
                conn.last_error_at = None
                item.synced_sequence = c.sequence
                item.synced_at = now
                item.last_error = None
                if changed_since:
                    item.next_attempt_at = now  # a newer state waits: write it next
                else:
                    item.status = "synced"
                    item.attempts = 0
                return
            detail = result.detail[:300]
            log.warning("calendar write of meeting %s to %s failed: %s", c.meeting_id, c.connection_id, detail)
            conn.last_error = detail
            conn.last_error_at = now
            item.last_error = detail
            if changed_since:
                item.next_attempt_at = now
                return
            item.attempts += 1
            if item.attempts <= len(schedule):
                item.next_attempt_at = now + timedelta(seconds=schedule[item.attempts - 1])
            else:
                item.status = "failed"
