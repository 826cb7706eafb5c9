"""Apply migrations to the database an async engine points at (on start and in tests).

``python -m stack.migrate`` (``just migrate``) applies them to the API's configured database; ``… revision
"message"`` autogenerates. That command lives with the launchers because the configuration is the API's
(``api.settings``), and the schema package does not import the API.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every API process so that N processes starting at once
# migrate one after another on PostgreSQL.
_PG_LOCK_KEY = 0x6D6565746D657368


def _config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
    try:
        command.upgrade(_config(connection), "head")
    finally:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})


async def upgrade(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.run_sync(_upgrade)
        await conn.commit()


async def revision(engine: AsyncEngine, message: str) -> None:
    """Autogenerate a migration for what the models add over the database at head (upgraded first)."""
    async with engine.connect() as conn:
        await conn.run_sync(lambda c: command.upgrade(_config(c), "head"))
        await conn.run_sync(lambda c: command.revision(_config(c), message=message, autogenerate=True))
