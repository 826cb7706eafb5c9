"""Scaled mode: connected calendars' CalDAV requests run as arq jobs (``stack.calendars:ArqCalDAV``) on a real
``python -m workers`` process; connecting (PROPFIND) and writing (PUT) behave as embedded, against Radicale."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from tests.conftest import EDGE_SECRET, RunningServer, make_settings
from tests.support.arq_worker import REDIS_URL, arq_worker
from tests.support.gql import Client
from tests.support.radicale import CONNECT, Radicale, connect_input, radicale_server, when_stored
from tests.support.world import World

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

CREATE = """mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id } }"""


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[Radicale]:
    with radicale_server(tmp_path / "radicale") as server:
        yield server


@pytest.fixture
async def queue_and_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, RunningServer]]:
    async with arq_worker(monkeypatch, "calendar") as queue:
        srv = RunningServer(
            make_settings(
                tmp_path / "api",
                edge_secret=EDGE_SECRET,
                calendar_provider="stack.calendars:ArqCalDAV",
                webhook_allowed_networks=("127.0.0.1/32",),
                calendar_retry_schedule_s=(0.3, 0.5, 1.0),
                calendar_poll_s=0.2,
            )
        )
        await srv.start()
        try:
            yield queue, srv
        finally:
            await srv.stop()


async def test_calendar_requests_run_as_arq_jobs_on_a_worker_process(
    queue_and_api: tuple[str, RunningServer], radicale: Radicale
) -> None:
    queue, srv = queue_and_api
    async with httpx.AsyncClient(timeout=30) as http:
        host = await World(Client(srv.url, http)).user()
        wrong = await host.client.error(CONNECT, i=connect_input(radicale, password="wrong"))
        assert wrong.code == "FORBIDDEN"
        await host.client(CONNECT, i=connect_input(radicale))
        start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
        m = (await host.client(CREATE, i={"title": "Via the worker", "startsAt": start.isoformat(), "passcode": ""}))[
            "createMeeting"
        ]
        ev = await when_stored(radicale, f"{m['id']}@127.0.0.1", lambda ev: True)
        assert str(ev["summary"]) == "Via the worker"
    # The requests were arq jobs of this test's queue (their results are kept under their job ids).
    redis = Redis.from_url(REDIS_URL)
    try:
        results = [k async for k in redis.scan_iter(match=f"arq:result:{queue}:calendar:*", count=1000)]
    finally:
        await redis.aclose()
    assert len(results) >= 3  # two checks (wrong and right password) and the PUT
