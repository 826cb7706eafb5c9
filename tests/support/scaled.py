"""Two real API processes sharing one PostgreSQL database and one Redis (scaled-out mode), for tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from testkit.server import ApiProcess, running_api

REDIS_URL = "redis://127.0.0.1:6379/0"


@contextmanager
def api_pair(database_url: str, shared_dir: Path, name: str = "pair") -> Iterator[tuple[ApiProcess, ApiProcess]]:
    """Both processes share keys (one data directory and secret), the database and a Redis prefix of their own."""
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "API_REDIS_PREFIX": f"meetmesh-test-{secrets.token_hex(4)}",
        "API_SECRET_KEY": secrets.token_urlsafe(32),
    }
    with ExitStack() as stack:
        a = stack.enter_context(running_api(f"meetmesh-{name}-a-", extra_env=env, data_dir=shared_dir))
        b = stack.enter_context(running_api(f"meetmesh-{name}-b-", extra_env=env, data_dir=shared_dir))
        yield a, b
