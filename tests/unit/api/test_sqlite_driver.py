"""The one-trip SQLite driver: the same answers as SQLAlchemy's aiosqlite adapter, in fewer worker-thread trips."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db import make_engine
from tests.support.loop_lag import loop_lag_while

META = sa.MetaData()
ITEMS = sa.Table(
    "items",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, unique=True, nullable=False),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(META.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: object, *args: object, **kwargs: object) -> object:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def test_a_read_is_one_trip_per_statement_and_none_to_finish(engine: AsyncEngine, trips: list[str]) -> None:
    async with engine.connect() as conn:  # a pooled connection already open
        await conn.execute(sa.select(1))
    trips.clear()
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(ITEMS))).all()
        count = (await conn.execute(sa.select(sa.func.count()).select_from(ITEMS))).scalar_one()
    assert rows == [] and count == 0
    assert len(trips) == 2, trips  # SQLAlchemy's adapter: 4 per statement and a ROLLBACK


async def test_writes_commit_and_report_rowcount_and_lastrowid(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
        inserted = await conn.execute(ITEMS.insert().values(name="a"))
        assert inserted.lastrowid == 1
        await conn.execute(ITEMS.insert(), [{"name": "b"}, {"name": "c"}])  # executemany
        updated = await conn.execute(ITEMS.update().where(ITEMS.c.name != "a").values(name=ITEMS.c.name + "!"))
        assert updated.rowcount == 2
        await conn.commit()
    async with engine.connect() as conn:
        names = (await conn.execute(sa.select(ITEMS.c.name).order_by(ITEMS.c.id))).scalars().all()
    assert names == ["a", "b!", "c!"]


async def test_a_rolled_back_transaction_leaves_nothing_and_errors_keep_their_type(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
        await conn.execute(ITEMS.insert().values(name="kept?"))
        await conn.rollback()
    async with engine.connect() as conn:
        await conn.execute(ITEMS.insert().values(name="once"))  # autocommit mode: no BEGIN, stored at once
        with pytest.raises(IntegrityError):
            await conn.execute(ITEMS.insert().values(name="once"))
        with pytest.raises(sa.exc.OperationalError):
            await conn.exec_driver_sql("SELECT * FROM no_such_table")
        names = (await conn.execute(sa.select(ITEMS.c.name))).scalars().all()
    assert names == ["once"]


async def test_many_rows_come_back_whole(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(ITEMS.insert(), [{"name": f"n{i}"} for i in range(2500)])
        result = await conn.execute(sa.select(ITEMS.c.name).order_by(ITEMS.c.id))
        first = result.fetchmany(10)
        rest = result.fetchall()
    assert [r[0] for r in first] == [f"n{i}" for i in range(10)] and len(rest) == 2490


def _writer(engine: AsyncEngine, inline: bool) -> AsyncEngine:
    return engine.execution_options(meetmesh_write=True, meetmesh_inline=inline)  # as api/db.py's Database.write


async def test_an_inline_write_trips_only_for_begin_and_commit(engine: AsyncEngine, trips: list[str]) -> None:
    for inline, statement_trips in ((False, 3), (True, 0)):
        async with engine.connect() as conn:
            await conn.execute(sa.select(1))  # a pooled connection is open before counting
        trips.clear()
        async with _writer(engine, inline).begin() as conn:
            await conn.execute(ITEMS.insert().values(name=f"x-{inline}"))
            await conn.execute(ITEMS.update().where(ITEMS.c.name == f"x-{inline}").values(name=f"y-{inline}"))
            found = (await conn.execute(sa.select(ITEMS.c.name).where(ITEMS.c.name == f"y-{inline}"))).scalar()
        assert found == f"y-{inline}"
        # BEGIN IMMEDIATE (it may wait for another writer) and COMMIT (it may checkpoint) always go to the thread.
        assert len(trips) == 2 + statement_trips, (inline, trips)
    async with engine.connect() as conn:
        names = set((await conn.execute(sa.select(ITEMS.c.name))).scalars().all())
    assert names == {"y-False", "y-True"}


async def test_an_inline_write_rolls_back_and_keeps_error_types(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(ITEMS.insert().values(name="taken"))
    with pytest.raises(IntegrityError):
        async with _writer(engine, True).begin() as conn:
            await conn.execute(ITEMS.insert().values(name="first"))
            await conn.execute(ITEMS.insert().values(name="taken"))
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(ITEMS.c.name))).scalars().all() == ["taken"]
        # The same pooled connection, now outside a transaction: reads and autocommit writes use the thread again.
        await conn.execute(ITEMS.insert().values(name="after"))
        assert (await conn.execute(sa.select(sa.func.count()).select_from(ITEMS))).scalar() == 2


async def test_an_inline_write_waits_for_another_writer_off_the_loop(engine: AsyncEngine, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "t.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock for a while

    def release() -> None:
        other.execute("COMMIT")
        other.close()

    timer = threading.Timer(0.4, release)
    timer.start()

    async def write() -> None:
        async with _writer(engine, True).begin() as conn:
            await conn.execute(ITEMS.insert().values(name="after the other writer"))

    try:
        t0 = time.perf_counter()
        _, worst = await loop_lag_while(write())
        waited = time.perf_counter() - t0
    finally:
        timer.join()
    assert waited >= 0.3  # BEGIN IMMEDIATE waited for the lock ...
    assert worst < 0.2, f"the event loop was held {worst:.3f} s"  # ... in aiosqlite's thread, not on the loop
