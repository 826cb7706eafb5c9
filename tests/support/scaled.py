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


@contextmanager
def api_workers(database_url: str, workers: int, name: str = "workers") -> Iterator[ApiProcess]:
    """``python -m api`` with ``API_WORKERS``: N processes behind one port (uvicorn's supervisor)."""
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "API_REDIS_PREFIX": f"meetmesh-test-{secrets.token_hex(4)}",
        "API_SECRET_KEY": secrets.token_urlsafe(32),
        "API_WORKERS": str(workers),
    }
    # Each process imports the whole API and migrates (serialised) before the port answers: on a loaded 2-core
    # host that took ~25 s for two.
    with running_api(f"meetmesh-{name}-", extra_env=env, startup_timeout_s=30.0 * workers) as api:
        yield api


def worker_pids(supervisor: int) -> list[int]:
    """The API processes a supervisor started (multiprocessing's spawned children, not its helpers)."""
    found: list[int] = []
    for task in Path(f"/proc/{supervisor}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in cmdline:
                found.append(int(child))
    return found


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, proc(5)
