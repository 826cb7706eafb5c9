"""Scaled mode: the API's dispatcher hands each attempt to an arq job (``stack.webhooks:ArqSender``) that a real
``python -m workers`` process runs; the outbox, ordering and signatures are the same as embedded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from testkit.webhook_receiver import Receiver
from tests.conftest import EDGE_SECRET, RunningServer, make_settings
from tests.support.arq_worker import arq_worker
from tests.support.gql import Client
from tests.support.webhooks import endpoint, settled
from tests.support.world import World

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture
async def arq_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RunningServer]:
    async with arq_worker(monkeypatch, "webhook"):
        srv = RunningServer(
            make_settings(
                tmp_path / "api",
                edge_secret=EDGE_SECRET,
                webhook_sender="stack.webhooks:ArqSender",
                webhook_allowed_networks=("127.0.0.1/32",),
                webhook_retry_schedule_s=(0.2, 0.5, *([1.0] * 30)),
                webhook_poll_s=0.2,
            )
        )
        await srv.start()
        try:
            yield srv
        finally:
            await srv.stop()


async def test_attempts_run_as_arq_jobs_on_a_worker_process(arq_api: RunningServer, tmp_path: Path) -> None:
    receiver = Receiver(tmp_path / "received.jsonl", fail_every=4)
    receiver.start()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            world = World(Client(arq_api.url, http))
            owner = await world.user()
            endpoint_id, secret = await endpoint(owner, receiver.url)
            m = await world.meeting(owner)
            await world.join(owner, m)
            for _ in range(4):
                await world.join(None, m)
            delivered = await settled(owner, endpoint_id)
    finally:
        receiver.kill()
    assert len(delivered) == 7 and all(d["status"] == "delivered" for d in delivered)
    assert any(d["attempts"] > 1 for d in delivered)  # every 4th request failed and was retried
    wh = Webhook(secret)
    first: dict[str, float] = {}
    for r in receiver.received():
        wh.verify(r.body, r.headers)
        first.setdefault(r.id, r.payload["data"]["seq"])
    assert sorted(first) == sorted(d["id"] for d in delivered)
    assert list(first.values()) == sorted(first.values())
