"""Engine, sessions and the write transaction that publishes its events only after it commits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, inspect, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from api import point_reads, sqlite_driver
from api.bus import Bus
from dbschema.models import Meeting, MeetingEventRow, utcnow
from protocol.events import Audience, EventType, MeetingEvent


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        # One worker-thread trip per statement instead of four, none for a no-op COMMIT/ROLLBACK (api/sqlite_driver).
        url = url.replace("sqlite+aiosqlite:", f"sqlite+{sqlite_driver.NAME}:", 1)
        # check_same_thread off: a transaction that asks for it runs its statements on the loop's thread
        # (api/sqlite_driver.py, inline_now); statements on one connection are still never concurrent.
        engine = create_async_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control from the driver so we can choose BEGIN IMMEDIATE for writers: a
            # deferred transaction that later upgrades to a write lock fails at once with SQLITE_BUSY instead
            # of waiting for busy_timeout.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # Writers: BEGIN IMMEDIATE. Readers: no BEGIN at all - each statement is then its own snapshot, as
            # under PostgreSQL's READ COMMITTED (the code already runs on both), and a read costs no BEGIN and
            # ROLLBACK round trips through aiosqlite's thread.
            options = conn.get_execution_options()
            if options.get("meetmesh_write"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            adapted = conn.connection.dbapi_connection
            if isinstance(adapted, sqlite_driver.OneTripConnection):
                adapted.inline = bool(options.get("meetmesh_inline"))

        return engine
    return create_async_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)


Changes = dict[tuple[str, Any], dict[str, tuple[Any, Any]]]
"""Per row (table name, primary key): column -> (old, new), for what changed since the last flush."""

EmitHook = Callable[["Tx", MeetingEvent, Changes], Awaitable[None]]
emit_hooks: list[EmitHook] = []
"""Observers of every event, run inside the emitting transaction with the event and the row changes that led to
it (the audit log registers here, so an action and its audit row commit or roll back together)."""


emit_returning: dict[str, Any] = {}
"""Scalar SQL expressions (over ``meetings``) that the event-sequence UPDATE also returns, by name, into
``tx.notes[("emit", name)]``: what an emit hook needs to know about the meeting rides on a statement that runs
anyway (the webhook outbox asks whether the meeting's owner has any endpoint, so meetings without webhooks pay
no query for them)."""


def pending_changes(session: AsyncSession) -> Changes:
    """What the dirty rows of ``session`` changed since its last flush. Read before the flush: the flush forgets
    the history. Only rows loaded in this transaction are dirty, so this is bounded by what the action touched."""
    out: Changes = {}
    for obj in session.dirty:
        state = inspect(obj)
        diff: dict[str, tuple[Any, Any]] = {}
        for attr in state.mapper.column_attrs:
            hist = state.attrs[attr.key].history
            if hist.added:
                diff[attr.key] = (hist.deleted[0] if hist.deleted else None, hist.added[0])
        if diff:
            ident = state.identity[0] if state.identity and len(state.identity) == 1 else state.identity
            out[(state.mapper.local_table.name, ident)] = diff
    return out


class Tx:
    """One write transaction. ``emit`` assigns the meeting's next sequence number inside the transaction
    (the row update serialises writers per meeting, so sequence order is commit order) and logs the event."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.events: list[MeetingEvent] = []
        self.notes: dict[Any, Any] = {}
        """Scratch space of the transaction's observers (emit hooks), dropped with it."""
        self.after_commit: list[Callable[[], None]] = []
        """Called once the transaction has committed (never after a rollback): wake-ups of other loops, such as
        the webhook dispatcher, that must not look before the rows are visible."""

    async def emit(
        self,
        meeting_id: str,
        type: EventType,
        *,
        audience: Audience = Audience.ALL,
        subject_id: str | None = None,
        actor_id: str | None = None,
        participant: dict[str, Any] | None = None,
        meeting: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        recipients: tuple[str, ...] | None = None,
        room_id: str | None = None,
    ) -> MeetingEvent:
        changes = pending_changes(self.session) if emit_hooks else {}
        await self.session.flush()
        row = (
            await self.session.execute(
                update(Meeting)
                .where(Meeting.id == meeting_id)
                .values(event_seq=Meeting.event_seq + 1)
                .returning(Meeting.event_seq, *emit_returning.values())
                .execution_options(synchronize_session=False)
            )
        ).one()
        seq = row[0]
        for name, value in zip(emit_returning, row[1:], strict=True):
            self.notes[("emit", name)] = value
        now = utcnow()
        ev = MeetingEvent(
            meeting_id=meeting_id,
            seq=seq,
            type=type,
            audience=audience,
            at=now.timestamp(),
            subject_id=subject_id,
            actor_id=actor_id,
            participant=participant,
            meeting=meeting,
            data=data or {},
            recipients=recipients,
            room_id=room_id,
        )
        self.session.add(MeetingEventRow(meeting_id=meeting_id, seq=seq, body=ev.to_dict(), at=now))
        self.events.append(ev)
        for hook in emit_hooks:
            await hook(self, ev, changes)
        return ev


class Database:
    def __init__(self, engine: AsyncEngine, bus: Bus) -> None:
        self.engine = engine
        self.bus = bus
        # SQLite has one writer at a time. Queueing writers here wakes the next one the moment the last commits;
        # leaving it to SQLite's busy handler makes them sleep-poll with back-off (measured: join p99 ~2 s at 32
        # concurrent joins). BEGIN IMMEDIATE still guards against writers in other processes.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._reader = async_sessionmaker(engine, expire_on_commit=False)
        self._writer = async_sessionmaker(engine.execution_options(meetmesh_write=True), expire_on_commit=False)
        self._inline_writer = async_sessionmaker(
            engine.execution_options(meetmesh_write=True, meetmesh_inline=True), expire_on_commit=False
        )
        self.points = point_reads.reader_for(engine)
        """The one-row reads on every request's path, without a session (api/point_reads.py)."""

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def write(self, *, inline: bool = False) -> AsyncIterator[Tx]:
        """A write transaction; its events are published after it commits. ``inline``: on SQLite, its statements
        after BEGIN run on the event loop's thread (api/sqlite_driver.py ``inline_now``) - for hot transactions of a
        few small statements on indexed rows only (a join), never for bulk work."""
        if self._write_lock is None:
            async with self._transaction(inline) as tx:
                yield tx
        else:
            async with self._write_lock, self._transaction(inline) as tx:
                yield tx
        for callback in tx.after_commit:
            callback()
        for ev in tx.events:  # after commit, never before: subscribers must be able to read what they hear of
            await self.bus.publish(ev)

    @asynccontextmanager
    async def _transaction(self, inline: bool) -> AsyncIterator[Tx]:
        async with (self._inline_writer if inline else self._writer)() as session:
            tx = Tx(session)
            async with session.begin():
                yield tx

    async def dispose(self) -> None:
        await self.points.close()
        await self.engine.dispose()
