"""A throwaway PostgreSQL database for a benchmark or load run (created over trust auth, dropped afterwards)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

ADMIN_URL = os.environ.get("MEETMESH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _admin(sql: str, admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def throwaway_database(prefix: str = "meetmesh_bench", admin_url: str = ADMIN_URL) -> Iterator[str]:
    """Yield the URL of a new, empty database; drop it (closing any connection left) on the way out."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"', admin_url))
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin_url))
