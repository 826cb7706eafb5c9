"""0019_sso makes ``users.password_hash`` optional without losing anything: on SQLite that is a rebuild of
``users``, whose drop would cascade to every table pointing at it if foreign keys were enforced meanwhile."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, text

from api.db import make_engine
from api.settings import Settings
from dbschema import migrate
from tests.conftest import PG_ADMIN_URL, _pg_admin, _run

_TABLES = ("users", "refresh_tokens", "meetings")


def _to(revision: str) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        command.upgrade(migrate._config(conn), revision)

    return run


async def _check(url: str) -> None:
    engine = make_engine(Settings(database_url=url).sqlalchemy_url)  # the API's engine: foreign keys enforced
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_to("0018_caldav"))
            await conn.commit()
        async with engine.connect() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, display_name, password_hash, created_at) VALUES "
                    "('u1', 'a@example.test', 'A', 'hash', CURRENT_TIMESTAMP)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO refresh_tokens (digest, user_id, created_at, expires_at) VALUES "
                    "('d1', 'u1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            await conn.commit()
        before = await _counts(engine)
        await migrate.upgrade(engine)
        assert await _counts(engine) == before and before["refresh_tokens"] == 1
        async with engine.connect() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, display_name, created_at) VALUES "
                    "('u2', 'b@example.test', 'B', CURRENT_TIMESTAMP)"
                )
            )
            await conn.commit()
            # Foreign keys are enforced again after the rebuild (SQLite: the pragma was turned back on).
            with pytest.raises(Exception, match=r"(?i)foreign key"):
                await conn.execute(
                    text(
                        "INSERT INTO refresh_tokens (digest, user_id, created_at, expires_at) VALUES "
                        "('d2', 'nobody', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    )
                )
            await conn.rollback()
        async with engine.connect() as conn:
            await conn.run_sync(lambda c: command.downgrade(migrate._config(c), "0018_caldav"))
            await conn.commit()
            hashes: dict[str, str] = dict((await conn.execute(text("SELECT id, password_hash FROM users"))).all())
        assert hashes == {"u1": "hash", "u2": "!"}  # a password-less account keeps an unusable hash
        assert (await _counts(engine))["refresh_tokens"] == 1
    finally:
        await engine.dispose()


async def _counts(engine: object) -> dict[str, int]:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        return {t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in _TABLES}


async def test_password_optional_keeps_rows_on_sqlite(tmp_path: Path) -> None:
    await _check(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_password_optional_keeps_rows_on_postgres() -> None:
    name = f"meetmesh_mig_{secrets.token_hex(4)}"
    _run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        _run(_check(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"))
    finally:
        _run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
