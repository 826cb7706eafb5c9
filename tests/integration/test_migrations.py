"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and downgrade."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from api.settings import Settings
from dbschema import migrate
from dbschema.all import include_object, metadata
from tests.conftest import PG_ADMIN_URL, _pg_admin, _run


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
    return list(compare_metadata(ctx, metadata))


def _downgrade_all(conn: Connection) -> None:
    command.downgrade(migrate._config(conn), "base")


async def _check(url: str) -> None:
    engine = create_async_engine(Settings(database_url=url).sqlalchemy_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            await conn.run_sync(_downgrade_all)
            await conn.commit()
        await migrate.upgrade(engine)  # and back up again, cleanly
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_migrations_match_models_on_sqlite(tmp_path: Path) -> None:
    await _check(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_migrations_match_models_on_postgres() -> None:
    name = f"meetmesh_mig_{secrets.token_hex(4)}"
    _run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        _run(_check(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"))
    finally:
        _run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
