"""The one-trip SQLite driver: the same answers as SQLAlchemy's aiosqlite adapter, in fewer worker-thread trips."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.db import make_engine

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
