"""Point reads: the hot path's one-row look-ups, straight to the driver (issue 16).

A ``meeting(id)`` read is two tiny primary-key SELECTs. Through an ``AsyncSession`` each costs a session, a pool
checkout (on PostgreSQL a pre-ping round trip), statement caching, ORM loading and, on SQLite, a trip to aiosqlite's
worker thread and back - about 1.3 ms of CPU each, measured, where the driver itself needs 0.04-0.07 ms. Every other
part of the request (Litestar, Strawberry, the token) together costs less than one of them. So the few reads on
every request's path skip the session:

- **SQLite**: a read-only ``sqlite3`` connection used on the event loop's own thread. In WAL mode a reader never
  waits for the writer (it reads the last committed snapshot), and a primary-key probe of a cached page takes
  microseconds - less than the thread hop it replaces. ``busy_timeout`` is 0 there, so the rare moment SQLite does
  refuse a reader (WAL recovery, a connection in exclusive locking mode) falls back to the engine's path instead of
  waiting on the loop.
- **PostgreSQL**: a small asyncpg pool of its own: statements prepared once per connection, no pre-ping (a dead
  connection fails the read, which then falls back), no reset round trip on release (these connections only ever
  run single read-only statements: there is no session state to reset).
- Anything else, or any failure of the fast path: the same statement through the engine, so errors are raised and
  mapped exactly as before.

Each read is a SQLAlchemy Core ``select`` compiled once per dialect; its values go through the dialect's own result
processors (SQLite's datetime strings, booleans, the ``UTCDateTime`` decorator), so a row reads the same as the ORM
would read it. :func:`detached` turns a row's columns into a detached ORM instance (an identity, nothing pending):
touching a column that was not read raises instead of silently reading ``None``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.base import instance_state, manager_of_class

PG_POOL_SIZE = 8
"""Connections per process for point reads on PostgreSQL (each answers one read at a time; a read is ~0.1 ms)."""

observers: list[Callable[[str], None]] = []
"""Called with each statement a point read sends to the database (the statement budgets in tests count them)."""

T = TypeVar("T")
Values = tuple[Any, ...]


class PointRead:
    """One SELECT returning at most one row, compiled once per dialect.

    ``statement`` names its parameters with ``bindparam``; :meth:`PointReader.one` passes them by name.
    """

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _Compiled(self.statement, dialect)
        return found


class _Compiled:
    __slots__ = ("defaults", "names", "processors", "sql")

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.names: Sequence[str] = tuple(compiled.positiontup or ())
        self.defaults = dict(compiled.params)  # literals the statement binds itself (a LIMIT)
        self.processors = tuple(
            column.type._cached_result_processor(dialect, None)  # the ORM's own conversion for this dialect
            for column in statement.selected_columns
        )

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(params[name] if name in params else self.defaults[name] for name in self.names)

    def convert(self, raw: Sequence[Any]) -> Values:
        return tuple(value if proc is None else proc(value) for proc, value in zip(self.processors, raw, strict=True))


class PointReader:
    """Runs point reads through the engine: the path every other reader falls back to."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect

    async def one(self, read: PointRead, **params: Any) -> Values | None:
        """The row's values in the statement's column order, or None when there is no row."""
        compiled = read.compiled(self.dialect)
        for observe in observers:
            observe(compiled.sql)
        return await self._one(read, compiled, params)

    async def _one(self, read: PointRead, compiled: _Compiled, params: Mapping[str, Any]) -> Values | None:
        return await self._through_engine(read, params)

    async def _through_engine(self, read: PointRead, params: Mapping[str, Any]) -> Values | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(read.statement, dict(params))).first()
        return tuple(row) if row is not None else None

    async def close(self) -> None:
        return None


class SqlitePointReader(PointReader):
    def __init__(self, engine: AsyncEngine, path: str) -> None:
        super().__init__(engine)
        self._path = path
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, cached_statements=64)
            # Opened after startup (the schema exists by then); never writes, never waits on the loop.
            conn.execute("PRAGMA query_only=ON")
            conn.execute("PRAGMA busy_timeout=0")
            self._conn = conn
        return self._conn

    async def _one(self, read: PointRead, compiled: _Compiled, params: Mapping[str, Any]) -> Values | None:
        try:
            # fetchall, not fetchone: the statement runs to its end and is reset, so no read snapshot stays open
            # to hold back WAL checkpoints.
            rows = self._connection().execute(compiled.sql, compiled.args(params)).fetchall()
        except sqlite3.OperationalError:
            return await self._through_engine(read, params)  # busy or locked: the engine's path waits off the loop
        return compiled.convert(rows[0]) if rows else None

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PostgresPointReader(PointReader):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self._dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._pool: Any = None
        self._opening = asyncio.Lock()
        self._failures: tuple[type[BaseException], ...] = (TimeoutError, OSError, *_asyncpg_errors())

    async def _get_pool(self) -> Any:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    import asyncpg  # only with PostgreSQL configured

                    self._pool = await asyncpg.create_pool(
                        self._dsn, min_size=1, max_size=PG_POOL_SIZE, init=_json_codecs, reset=_nothing_to_reset
                    )
        return self._pool

    async def _one(self, read: PointRead, compiled: _Compiled, params: Mapping[str, Any]) -> Values | None:
        try:
            pool = await self._get_pool()
            record = await pool.fetchrow(compiled.sql, *compiled.args(params))
        except self._failures:
            if self._pool is not None:
                # A connection killed mid-way can leave the protocol in a state a retry would meet again: replace
                # every connection on its next use.
                await self._pool.expire_connections()
            return await self._through_engine(read, params)  # the engine's path raises (and maps) what is wrong
        return compiled.convert(tuple(record)) if record is not None else None

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


def _asyncpg_errors() -> tuple[type[BaseException], ...]:
    import asyncpg

    return (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)


async def _json_codecs(conn: Any) -> None:
    # As SQLAlchemy's asyncpg dialect sets them up (its JSON types then have no result processor of their own).
    await conn.set_type_codec(
        "json", encoder=str.encode, decoder=lambda b: json.loads(b.decode()), schema="pg_catalog", format="binary"
    )
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda s: b"\x01" + s.encode(),
        decoder=lambda b: json.loads(b[1:].decode()),
        schema="pg_catalog",
        format="binary",
    )


async def _nothing_to_reset(conn: Any) -> None:
    return None


def reader_for(engine: AsyncEngine) -> PointReader:
    dialect = engine.dialect.name
    if dialect == "sqlite":
        path = engine.url.database
        if path and path != ":memory:" and not path.startswith("file:"):
            return SqlitePointReader(engine, path)
    elif dialect == "postgresql" and engine.url.get_driver_name() == "asyncpg":
        return PostgresPointReader(engine)
    return PointReader(engine)


def detached(model: type[T], values: Mapping[str, Any]) -> T:
    """An ORM instance holding these column values, detached with its identity (as if read by a session that has
    since closed); columns not given are expired, so reading one raises rather than answering ``None``."""
    manager = manager_of_class(model)
    obj: T = manager.new_instance()
    state = instance_state(obj)
    state.dict.update(values)
    make_transient_to_detached(obj)
    return obj


class Entity(Generic[T]):
    """A mapped class's columns in a point read (labelled with a prefix, so two tables can share a row) and the
    detached instance made back from them."""

    __slots__ = ("_pk", "columns", "keys", "model")

    def __init__(self, model: type[T], prefix: str) -> None:
        props = list(inspect(model).column_attrs)
        self.model = model
        self.keys = tuple(p.key for p in props)
        self.columns: tuple[ColumnElement[Any], ...] = tuple(p.columns[0].label(f"{prefix}{p.key}") for p in props)
        primary = [p.key for p in props if p.columns[0].primary_key]
        if len(primary) != 1:
            raise TypeError(f"{model.__name__}: point reads need a single-column primary key")
        self._pk = self.keys.index(primary[0])

    def build(self, values: Values, offset: int = 0) -> T | None:
        """The instance from ``values[offset:]``, or None where an outer join found no row."""
        part = values[offset : offset + len(self.keys)]
        if part[self._pk] is None:
            return None
        return detached(self.model, dict(zip(self.keys, part, strict=True)))
