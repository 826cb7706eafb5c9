"""Apply migrations to the database an async engine points at (on start and in tests).

``python -m dbschema.migrate`` upgrades the configured database; ``… revision "message"`` autogenerates.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

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


async def _main(argv: list[str]) -> None:
    from api.settings import Settings

    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(settings.sqlalchemy_url)
    try:
        if argv[:1] == ["revision"]:
            message = argv[1] if len(argv) > 1 else "change"
            async with engine.connect() as conn:
                await conn.run_sync(lambda c: command.upgrade(_config(c), "head"))
                await conn.run_sync(lambda c: command.revision(_config(c), message=message, autogenerate=True))
        else:
            await upgrade(engine)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1:]))
