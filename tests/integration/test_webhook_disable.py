"""An endpoint that fails for its whole retry schedule is disabled; its owner hears of it through an
``endpoint.disabled`` webhook to their other endpoints and an e-mail (a real SMTP server: aiosmtpd); its later
deliveries wait and go out once it is enabled again. SQLite and PostgreSQL."""

from __future__ import annotations

import email
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from api.mail import Mail, SmtpMailer
from testkit.server import free_port
from testkit.webhook_receiver import Receiver
from tests.conftest import EDGE_SECRET, RunningServer, make_settings
from tests.support.gql import Client, eventually
from tests.support.webhooks import CREATE, ENDPOINTS, database, deliveries, endpoint
from tests.support.world import World


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def strict_server(
    request: pytest.FixtureRequest, tmp_path: Path, smtp: tuple[Inbox, int]
) -> AsyncIterator[RunningServer]:
    async with database(request.param) as url:
        settings = make_settings(
            tmp_path / "api",
            url,
            edge_secret=EDGE_SECRET,
            webhook_allowed_networks=("127.0.0.1/32",),
            webhook_retry_schedule_s=(0.1, 0.2),  # three attempts, then given up
            webhook_connect_timeout_s=1.0,
            webhook_read_timeout_s=1.0,
            webhook_poll_s=0.2,
            smtp_host="127.0.0.1",
            smtp_port=smtp[1],
            mail_from="hooks@meetmesh.test",
        )
        srv = RunningServer(settings)
        await srv.start()
        yield srv
        await srv.stop()


async def test_a_failing_endpoint_is_disabled_and_its_owner_told(
    strict_server: RunningServer, http: httpx.AsyncClient, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, _ = smtp
    world = World(Client(strict_server.url, http))
    failing = Receiver(tmp_path / "failing.jsonl", fail_every=1)  # echoes challenges, 500 to everything else
    healthy = Receiver(tmp_path / "healthy.jsonl")
    failing.start()
    healthy.start()
    try:
        owner = await world.user("Owner")
        bad_id, _ = await endpoint(owner, failing.url)
        await endpoint(owner, healthy.url, ["endpoint.disabled"])
        await world.meeting(owner)

        async def disabled() -> bool:
            eps = {e["id"]: e for e in (await owner.client(ENDPOINTS))["webhookEndpoints"]}
            return not eps[bad_id]["enabled"]

        await eventually(disabled, timeout=30, interval=0.1)
        eps = {e["id"]: e for e in (await owner.client(ENDPOINTS))["webhookEndpoints"]}
        assert "failed 3 attempts" in eps[bad_id]["disabledReason"] and "HTTP 500" in eps[bad_id]["disabledReason"]
        [created] = [d for d in await deliveries(owner, bad_id) if d["eventType"] == "meeting.created"]
        assert created["status"] == "failed" and created["attempts"] == 3 and created["lastStatusCode"] == 500

        async def notice() -> list[Any]:
            return [r for r in healthy.received() if r.payload["type"] == "endpoint.disabled"]

        [n] = await eventually(notice, timeout=30, interval=0.1)
        assert n.payload["data"]["endpointId"] == bad_id and n.payload["data"]["url"] == failing.url

        await eventually(lambda: inbox.messages, timeout=30, interval=0.1)
        [(to, msg)] = inbox.messages
        assert to[0].startswith("u") and to[0].endswith("@example.test")
        assert msg["From"] == "hooks@meetmesh.test" and "disabled" in msg["Subject"]
        assert failing.url in msg.get_payload()

        # Disabled: new events are not queued for it; enabled again, the next ones go out.
        await world.meeting(owner)
        assert len([d for d in await deliveries(owner, bad_id) if d["eventType"] == "meeting.created"]) == 1
        failing.kill()
        fixed = Receiver(tmp_path / "fixed.jsonl")
        fixed.port = failing.port
        fixed.start()
        try:
            update = "mutation($i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $i) { enabled } }"
            assert (await owner.client(update, i={"id": bad_id, "enabled": True}))["updateWebhookEndpoint"]["enabled"]
            await world.meeting(owner)

            async def arrived() -> bool:
                return any(r.payload["type"] == "meeting.created" for r in fixed.received())

            await eventually(arrived, timeout=30, interval=0.1)
        finally:
            fixed.kill()
    finally:
        failing.kill()
        healthy.kill()


async def test_the_smtp_mailer_sends_through_a_real_server(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    await SmtpMailer("127.0.0.1", port, "from@meetmesh.test").send(Mail("to@example.test", "Hello", "Body text"))
    [(to, msg)] = inbox.messages
    assert to == ["to@example.test"] and msg["Subject"] == "Hello" and "Body text" in msg.get_payload()


async def test_creating_more_endpoints_than_allowed_is_refused(
    strict_server: RunningServer, http: httpx.AsyncClient
) -> None:
    world = World(Client(strict_server.url, http))
    owner = await world.user()
    for _ in range(strict_server.settings.webhook_max_endpoints):
        await owner.client(CREATE, i={"url": "http://127.0.0.1:9/h", "eventTypes": []})
    err = await owner.client.error(CREATE, i={"url": "http://127.0.0.1:9/h", "eventTypes": []})
    assert err.code == "BAD_INPUT" and "at most" in err.errors[0]["message"]
