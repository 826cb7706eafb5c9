"""Count the SQL statements a running API sends while a block runs (the statement budgets of hot operations)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from api import point_reads
from api.app import BACKGROUND
from tests.conftest import RunningServer


@contextmanager
def transactions(server: RunningServer) -> Iterator[list[str]]:
    """One entry per database transaction begun while the block runs (SQLAlchemy's ``begin`` event: PostgreSQL's
    implicit BEGIN included, SQLite's statement-at-a-time reads excluded), background tasks left out."""
    engine = server.app.state.services.db.engine.sync_engine
    seen: list[str] = []

    def record(conn: Any) -> None:
        task = asyncio.current_task()
        if task is not None and task.get_name().startswith(BACKGROUND):
            return
        seen.append("write" if conn.get_execution_options().get("meetmesh_write") else "read")

    event.listen(engine, "begin", record)
    try:
        yield seen
    finally:
        event.remove(engine, "begin", record)


@contextmanager
def statements(server: RunningServer) -> Iterator[list[str]]:
    """The statements sent to the database (BEGIN included where the driver needs one sent) while the block runs, but
    not those of the API's periodic background tasks."""
    engine = server.app.state.services.db.engine.sync_engine
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        task = asyncio.current_task()
        if task is not None and task.get_name().startswith(BACKGROUND):
            return  # a sweeper that happened to run meanwhile is not the operation being counted
        seen.append(" ".join(statement.split())[:160])

    def record_point_read(statement: str) -> None:
        record(None, None, statement, None, None, False)

    event.listen(engine, "before_cursor_execute", record)
    point_reads.observers.append(record_point_read)  # the hot path's one-row reads skip the engine
    try:
        yield seen
    finally:
        point_reads.observers.remove(record_point_read)
        event.remove(engine, "before_cursor_execute", record)
