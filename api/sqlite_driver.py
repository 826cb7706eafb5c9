"""SQLite through aiosqlite in one thread hop per statement (issue 16: the database path is where reads spend).

SQLAlchemy's aiosqlite adapter makes four trips to aiosqlite's worker thread per statement (open a cursor,
execute, fetch all, close the cursor) and one per COMMIT or ROLLBACK even when no transaction is open. Each trip
is a queue put, a thread wake-up and a ``call_soon_threadsafe`` back onto the event loop: most of a small read's
CPU time. This dialect runs a statement's execute, fetch and close as one function in the worker thread, and
skips COMMIT and ROLLBACK when SQLite has no transaction open (the engine runs the driver in autocommit mode, so
``in_transaction`` is true only after our explicit BEGIN IMMEDIATE; sqlite3's own commit/rollback are no-ops
then, so skipping them changes nothing but the trip).

Server-side cursors (streaming results) keep SQLAlchemy's own adapter. Registered as ``sqlite+meetmesh``.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util.concurrency import await_

NAME = "meetmesh"
"""The driver name in engine URLs: ``sqlite+meetmesh:///path``."""

_Outcome = tuple[Any, int, int | None, list[Any]]
"""description, rowcount, lastrowid, rows."""


async def _nothing() -> None:
    return None


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No cursor is opened here: each execute opens, uses and closes one inside the worker thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass  # results are fetched whole, as SQLAlchemy's adapter does for client-side cursors

    async def _async_soft_close(self) -> None:
        return  # nothing is open between calls

    def close(self) -> None:
        self._rows.clear()

    def _run(self, work: Any) -> None:
        adapted = self._adapt_connection
        if isinstance(adapted, OneTripConnection) and adapted.inline_now():
            try:
                self._description, self._rowcount, self._lastrowid, rows = work()
            except Exception as error:
                self._adapt_connection._handle_exception(error)
            self._rows = collections.deque(rows)
            # SQLAlchemy's async layer insists that an execution awaited something: a coroutine that is already
            # done (a greenlet switch, no trip through the event loop).
            await_(_nothing())
            return

        async def trip() -> _Outcome:
            async with self._adapt_connection._execute_mutex:
                return await self._connection._execute(work)  # type: ignore[no-any-return]

        try:
            self._description, self._rowcount, self._lastrowid, rows = await_(trip())
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._rows = collections.deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        connection = self._connection

        def work() -> _Outcome:  # runs in aiosqlite's worker thread
            cursor: sqlite3.Cursor = connection._conn.cursor()
            try:
                cursor.execute(operation, () if parameters is None else parameters)
                description = cursor.description
                rows = cursor.fetchall() if description else []
                return description, cursor.rowcount, cursor.lastrowid, rows
            finally:
                cursor.close()

        self._run(work)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        connection = self._connection

        def work() -> _Outcome:
            cursor: sqlite3.Cursor = connection._conn.cursor()
            try:
                cursor.executemany(operation, seq_of_parameters)
                return cursor.description, cursor.rowcount, cursor.lastrowid, []
            finally:
                cursor.close()

        self._run(work)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("inline",)
    _cursor_cls = OneTripCursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.inline = False
        """Set for the transaction by ``Database.write(inline=True)`` (api/db.py): see :meth:`inline_now`."""

    def inline_now(self) -> bool:
        """Run the statement on the calling (event loop) thread instead of a trip to aiosqlite's thread: only for
        transactions that asked (a few small statements on indexed rows) and only once this connection holds
        SQLite's write lock (after BEGIN IMMEDIATE, which may wait, went through the thread): from then on no
        statement waits for a lock in WAL mode, and each costs tens of microseconds - less than the trip.
        COMMIT still goes through the thread (it may checkpoint the WAL, which syncs to disk)."""
        return self.inline and self._in_transaction()

    def _in_transaction(self) -> bool:
        # Readable from the event loop's thread (a plain getter, no thread check), and exact here: statements on
        # this connection are serialised, so none runs while we look.
        raw = self._connection._connection
        return raw is not None and raw.in_transaction

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's adapter: a forgotten connection must not hang exit
        return OneTripConnection(self, await_(connection))


class MeetmeshSQLiteDialect(SQLiteDialect_aiosqlite):
    driver = "meetmesh"
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{NAME}", __name__, "MeetmeshSQLiteDialect")
