"""Shared fixtures. The API runs as a real uvicorn server (HTTP and WebSocket on loopback), once per database
backend: SQLite in a temporary directory and PostgreSQL in a database of its own, dropped afterwards."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn

from api.app import create_app
from api.settings import Settings
from testkit.server import ONE_ADDRESS_LOAD_LIMITS
from tests.support.gql import Client
from tests.support.world import World

PG_ADMIN_URL = os.environ.get("MEETMESH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(coro: object) -> None:
    """Run a coroutine to completion on a private loop (fixtures below are sync so any test may use them)."""
    box: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)  # type: ignore[arg-type]
        except BaseException as exc:  # re-raised in the caller's thread
            box.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if box:
        raise box[0]


async def _pg_admin(sql: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


@contextmanager
def fresh_pg_database(tag: str = "test") -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped on the way out (usable while a loop runs)."""
    name = f"meetmesh_{tag}_{os.getpid()}_{secrets.token_hex(3)}"
    _run(_pg_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        _run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; dropped at the end."""
    with fresh_pg_database() as url:
        yield url


EDGE_SECRET = "test-edge-secret"
"""The API's ``API_EDGE_SECRET`` in tests: edges present it on the control feed."""


def make_settings(data_dir: Path, database_url: str = "", **overrides: object) -> Settings:
    port = _free_port()
    # No recording processing unless a test asks for it: most tests check STOPPED recordings themselves.
    # Every test client is 127.0.0.1: per-address abuse limits are lifted (their own tests set them back).
    base = Settings(
        data_dir=data_dir,
        database_url=database_url,
        port=port,
        recording_processor="",
        rate_limits=ONE_ADDRESS_LOAD_LIMITS,
    )
    return Settings(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **overrides})  # type: ignore[arg-type]


class RunningServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.url = f"http://127.0.0.1:{settings.port}"
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=settings.port,
            log_level="warning",
            ws="websockets-sansio",
            lifespan="on",
            proxy_headers=False,  # as `python -m api` runs it: the peer is the client unless API_TRUSTED_PROXIES
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve())
        for _ in range(200):
            if self.server.started:
                return
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.02)
        raise RuntimeError("server did not start")

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp(f"api-{request.param}")
    url = ""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_database")
    srv = RunningServer(make_settings(data_dir, url, edge_secret=EDGE_SECRET))
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # Idle connections are dropped by the client before uvicorn's 5 s keep-alive timeout closes them: otherwise a
    # request sent on a connection the server is closing at that moment fails with ReadError (seen in full runs).
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(keepalive_expiry=2.0)) as client:
        yield client


@pytest.fixture
def anon(server: RunningServer, http: httpx.AsyncClient) -> Client:
    return Client(server.url, http)


@pytest.fixture
def world(anon: Client) -> World:
    return World(anon)


@pytest.fixture
def backend(server: RunningServer) -> str:
    return "postgres" if server.settings.database_url else "sqlite"


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_server_errors = _ErrorLog()
logging.getLogger("meetmesh").addHandler(_server_errors)


@pytest.fixture(autouse=True)
def no_unexpected_server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test also fails if the server logged an error (an INTERNAL answer, a crashed task) meanwhile,
    unless it is marked ``logs_errors`` (it provokes one on purpose and checks it itself)."""
    _server_errors.records.clear()
    yield
    if request.node.get_closest_marker("logs_errors"):
        _server_errors.records.clear()
    if _server_errors.records:
        first = _server_errors.records[0]
        detail = logging.Formatter().format(first)
        _server_errors.records.clear()
        pytest.fail(f"the server logged {len(_server_errors.records) + 1} error(s); first:\n{detail}")


@pytest.fixture(scope="session")
def repo_root() -> Iterator[Path]:
    yield Path(__file__).resolve().parent.parent
