"""Point reads (api/point_reads.py) against real SQLite and PostgreSQL: the same values the ORM reads, no engine
statement on the fast path, and a fallback through the engine - off the event loop - when the fast path is refused
or its connection dies."""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm.exc import DetachedInstanceError

from api import point_reads
from api.db import make_engine
from api.participants import store as participants_store
from api.security import GuestPrincipal, UserPrincipal
from dbschema.models import Base, Meeting, Participant, User
from tests.conftest import fresh_pg_database
from tests.support.loop_lag import loop_lag_while

NOW = datetime(2026, 12, 7, 21, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with fresh_pg_database("points") as url:  # its own: the session's database has migrations run on it
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'points.db'}"
    else:
        url = request.getfixturevalue("pg_url").replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
async def reader(engine: AsyncEngine) -> AsyncIterator[point_reads.PointReader]:
    reader = point_reads.reader_for(engine)
    yield reader
    await reader.close()


@pytest.fixture
def engine_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _seed(engine: AsyncEngine) -> dict[str, str]:
    tag = secrets.token_hex(4)  # tests share the PostgreSQL database
    ids = {k: f"{k[0]}-{tag}" for k in ("user", "meeting", "participant", "guest_participant")}
    async with async_sessionmaker(engine)() as session, session.begin():
        session.add(
            User(id=ids["user"], email=f"point-{tag}@example.test", display_name="Point Reader", password_hash="x")
        )
        await session.flush()
        session.add(
            Meeting(
                id=ids["meeting"],
                number=str(int(tag, 16) % 10**11).zfill(11),
                host_user_id=ids["user"],
                title="Quarterly planning – Ünïcode",
                description="",
                kind="scheduled",
                starts_at=NOW,
                duration_minutes=45,
                timezone="Europe/Berlin",
                recurrence=None,
                last_ends_at=NOW + timedelta(minutes=45),
                waiting_room=True,
                allow_guests=False,
                max_participants=250,
                status="live",
                started_at=NOW,
                event_seq=7,
            )
        )
        await session.flush()
        session.add_all(
            [
                Participant(
                    id=ids["participant"],
                    meeting_id=ids["meeting"],
                    user_id=ids["user"],
                    display_name="Point Reader",
                    role="host",
                    state="admitted",
                    audio_muted=True,
                    hand_raised_at=NOW - timedelta(seconds=3),
                    joined_at=NOW,
                ),
                Participant(
                    id=ids["guest_participant"],
                    meeting_id=ids["meeting"],
                    guest_id=f"guest-{tag}",
                    display_name="A guest",
                    role="guest",
                    state="waiting",
                    waiting_reason="waiting_room",
                ),
            ]
        )
    return ids


async def _orm(engine: AsyncEngine, model: type[Any], key: str) -> Any:
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        return await session.get(model, key)


def _columns(obj: Any) -> dict[str, Any]:
    return {attr.key: getattr(obj, attr.key) for attr in inspect(type(obj)).column_attrs}


def _user(user_id: str) -> UserPrincipal:
    return UserPrincipal(user_id=user_id)


async def test_a_point_read_gives_what_the_orm_reads(
    engine: AsyncEngine, reader: point_reads.PointReader, engine_statements: list[str]
) -> None:
    ids = await _seed(engine)
    engine_statements.clear()
    found = await participants_store.meeting_with_participant(reader, ids["meeting"], _user(ids["user"]))
    assert found is not None
    m, p = found
    assert p is not None
    assert _columns(m) == _columns(await _orm(engine, Meeting, ids["meeting"]))
    assert _columns(p) == _columns(await _orm(engine, Participant, ids["participant"]))
    # Converted by the dialect as the ORM converts: aware UTC datetimes, real booleans.
    assert m.starts_at == NOW and m.starts_at.tzinfo is not None and p.hand_raised_at == NOW - timedelta(seconds=3)
    assert m.waiting_room is True and m.allow_guests is False and type(p.audio_muted) is bool
    guest = await participants_store.meeting_with_participant(
        reader, ids["meeting"], GuestPrincipal(f"guest-{ids['meeting'][2:]}", "g")
    )
    assert guest is not None and guest[1] is not None and guest[1].id == ids["guest_participant"]
    assert guest[1].state == "waiting"
    if isinstance(reader, point_reads.SqlitePointReader | point_reads.PostgresPointReader):
        # Only the ORM comparisons above went through the engine.
        assert all("FROM meetings" not in s or "meetings.id = " in s for s in engine_statements)
        engine_statements.clear()
        await participants_store.meeting_with_participant(reader, ids["meeting"], _user(ids["user"]))
        assert engine_statements == []


async def test_no_meeting_and_no_participation_read_as_none(
    engine: AsyncEngine, reader: point_reads.PointReader
) -> None:
    ids = await _seed(engine)
    assert await participants_store.meeting_with_participant(reader, "no-such-meeting", _user(ids["user"])) is None
    outsider = await participants_store.meeting_with_participant(reader, ids["meeting"], _user("someone-else"))
    assert outsider is not None and outsider[0].id == ids["meeting"] and outsider[1] is None
    anonymous = await participants_store.meeting_with_participant(reader, ids["meeting"], None)
    assert anonymous is not None and anonymous[0].title == "Quarterly planning – Ünïcode" and anonymous[1] is None


async def test_an_instance_is_detached_with_its_identity_and_refuses_unread_columns(
    engine: AsyncEngine, reader: point_reads.PointReader
) -> None:
    ids = await _seed(engine)
    found = await participants_store.meeting_with_participant(reader, ids["meeting"], _user(ids["user"]))
    assert found is not None
    state = inspect(found[0])
    assert state.detached and state.identity == (ids["meeting"],) and not state.modified
    partial = point_reads.detached(Meeting, {"id": ids["meeting"], "title": "only two columns"})
    assert partial.title == "only two columns"
    with pytest.raises(DetachedInstanceError):
        _ = partial.status  # never read: an error, not a silent None


async def test_a_write_is_seen_by_the_next_point_read(engine: AsyncEngine, reader: point_reads.PointReader) -> None:
    ids = await _seed(engine)
    principal = _user(ids["user"])
    before = await participants_store.meeting_with_participant(reader, ids["meeting"], principal)
    assert before is not None and before[1] is not None and before[1].state == "admitted"
    async with async_sessionmaker(engine)() as session, session.begin():
        p = await session.get(Participant, ids["participant"])
        assert p is not None
        p.state = "removed"
    after = await participants_store.meeting_with_participant(reader, ids["meeting"], principal)
    assert after is not None and after[1] is not None and after[1].state == "removed"


async def test_sqlite_refusing_the_fast_path_falls_back_off_the_loop(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'locked.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    ids = await _seed(engine)
    await engine.dispose()  # no other connection open: another process may now take the database exclusively
    reader = point_reads.reader_for(engine)
    assert isinstance(reader, point_reads.SqlitePointReader)
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE meetings SET title = 'renamed while locked'")

    def unlock() -> None:
        holder.execute("COMMIT")
        holder.close()

    release = threading.Timer(0.4, unlock)
    release.start()
    try:
        t0 = time.perf_counter()
        found, lag = await loop_lag_while(
            participants_store.meeting_with_participant(reader, ids["meeting"], _user(ids["user"]))
        )
        waited = time.perf_counter() - t0
    finally:
        release.join()
        await reader.close()
        await engine.dispose()
    assert found is not None and found[0].title == "renamed while locked"
    assert waited >= 0.3  # it did wait for the lock to go ...
    assert lag < 0.2, f"the event loop was held {lag:.3f} s"  # ... in the engine's thread, not on the loop


@pytest.mark.postgres
async def test_postgres_connections_that_die_fall_back_and_are_replaced(pg_url: str) -> None:
    engine = make_engine(pg_url.replace("postgresql://", "postgresql+asyncpg://", 1))
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    ids = await _seed(engine)
    reader = point_reads.reader_for(engine)
    assert isinstance(reader, point_reads.PostgresPointReader)
    principal = _user(ids["user"])
    try:
        for _round in range(5):  # a killed connection fails in more than one way (reset, mid-protocol)
            assert await participants_store.meeting_with_participant(reader, ids["meeting"], principal) is not None
            admin = await asyncpg.connect(pg_url)
            try:
                killed = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            finally:
                await admin.close()
            assert killed >= 1
            for _ in range(3):  # each answer right, whether from a fresh connection or through the engine
                found = await participants_store.meeting_with_participant(reader, ids["meeting"], principal)
                assert found is not None and found[1] is not None and found[1].id == ids["participant"]
    finally:
        await reader.close()
        await engine.dispose()


def test_each_engine_gets_the_reader_of_its_driver(tmp_path: Path) -> None:
    on_file = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    in_memory = make_engine("sqlite+aiosqlite:///:memory:")
    postgres = make_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/none")
    assert type(point_reads.reader_for(on_file)) is point_reads.SqlitePointReader
    assert type(point_reads.reader_for(in_memory)) is point_reads.PointReader  # its own database per connection
    assert type(point_reads.reader_for(postgres)) is point_reads.PostgresPointReader
