"""Count the SQL statements a running API sends while a block runs (the statement budgets of hot operations)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from api.app import BACKGROUND
from tests.conftest import RunningServer


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

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
