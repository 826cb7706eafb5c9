"""``python -m stack.migrate``: apply the migrations to the API's configured database (``DATABASE_URL``, or SQLite
under ``API_DATA_DIR``); ``python -m stack.migrate revision "message"`` autogenerates a new one. The API also
migrates on start (``dbschema.migrate.upgrade``)."""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy.ext.asyncio import create_async_engine

from api.settings import Settings
from dbschema.migrate import revision, upgrade


async def _main(argv: list[str]) -> None:
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(settings.sqlalchemy_url)
    try:
        if argv[:1] == ["revision"]:
            await revision(engine, argv[1] if len(argv) > 1 else "change")
        else:
            await upgrade(engine)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1:]))
