"""Count the SQL statements a running API sends while a block runs (the statement budgets of hot operations)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tests.conftest import RunningServer


@contextmanager
def statements(server: RunningServer) -> Iterator[list[str]]:
    """The statements sent to the database (BEGIN included where the driver needs one sent) while the block runs."""
    engine = server.app.state.services.db.engine.sync_engine
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        seen.append(" ".join(statement.split())[:160])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
