"""The API process killed (SIGKILL) between the commit of a change and the delivery of its webhooks: the next
process on the same database delivers them all (the outbox rows were committed with the changes). Real
`python -m api` processes and a real receiver process; SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from testkit.postgres import throwaway_database
from testkit.server import running_api
from testkit.webhook_receiver import Receiver

ENV = {
    "API_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
    "API_WEBHOOK_RETRY_SCHEDULE": ",".join(["0.2", "0.5"] + ["1"] * 60),
    "API_WEBHOOK_POLL": "0.2",
    "API_WEBHOOK_CONNECT_TIMEOUT": "1",
    "API_WEBHOOK_READ_TIMEOUT": "2",
    "API_RECORDING_PROCESSOR": "",
}


class Gql:
    def __init__(self, url: str, token: str | None = None) -> None:
        self.url, self.token = url, token

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        res = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=30
        )
        body: dict[str, Any] = res.json()
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data


def _until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@contextmanager
def _database(backend: str) -> Iterator[str]:
    if backend == "postgres":
        with throwaway_database("meetmesh_hooks") as url:
            yield url
    else:
        yield ""


DELIVERIES = """query($e: ID!) { webhookDeliveries(endpointId: $e, first: 200) { id eventType status payload } }"""


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_killed_api_process_still_delivers_what_it_committed(backend: str, tmp_path: Path) -> None:
    receiver = Receiver(tmp_path / "received.jsonl")
    data_dir = tmp_path / "data"
    with _database(backend) as db_url:
        env = {**ENV, **({"DATABASE_URL": db_url} if db_url else {})}
        receiver.start()
        try:
            with running_api("meetmesh-hooks-", extra_env=env, data_dir=data_dir) as api:
                anon = Gql(api.url)
                token = anon(
                    "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
                    i={"email": "owner@example.test", "password": "correct horse", "displayName": "Owner"},
                )["signUp"]["accessToken"]
                owner = Gql(api.url, token)
                created = owner(
                    "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) "
                    "{ secret endpoint { id } } }",
                    i={"url": receiver.url, "eventTypes": []},
                )["createWebhookEndpoint"]
                endpoint_id, secret = created["endpoint"]["id"], created["secret"]
                _until(
                    lambda: owner("{ webhookEndpoints { verified } }")["webhookEndpoints"][0]["verified"],
                    30,
                    "the endpoint's verification",
                )
                receiver.kill()  # nothing can be delivered from here on
                m = owner(
                    "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id number } }",
                    i={"title": "Durable", "passcode": "", "settings": {"guestWaitingRoom": False}},
                )["createMeeting"]
                join = "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { status } }"
                owner(join, i={"number": m["number"]})
                for n in range(3):
                    anon(join, i={"number": m["number"], "displayName": f"Guest {n}"})
                queued = [d for d in owner(DELIVERIES, e=endpoint_id)["webhookDeliveries"] if d["status"] == "pending"]
                assert len(queued) == 6  # created, started, joined x4: committed, none delivered
                os.kill(api.pid, signal.SIGKILL)
            receiver.start()
            with running_api("meetmesh-hooks-", extra_env=env, data_dir=data_dir) as api:
                owner = Gql(api.url, token)

                def all_delivered() -> bool:
                    rows = owner(DELIVERIES, e=endpoint_id)["webhookDeliveries"]
                    return all(d["status"] == "delivered" for d in rows)

                _until(all_delivered, 60, "the new process to deliver the outbox")
        finally:
            receiver.kill()
    wh = Webhook(secret)
    got = {}
    for r in receiver.received():
        wh.verify(r.body, r.headers)
        got.setdefault(r.id, r)
    assert sorted(got) == sorted(d["id"] for d in queued)
    seqs = [r.payload["data"]["seq"] for r in sorted(got.values(), key=lambda r: r.received_at)]
    assert seqs == sorted(seqs)
    assert [got[d["id"]].payload["type"] for d in sorted(queued, key=lambda d: got[d["id"]].received_at)] == [
        "meeting.created",
        "meeting.started",
        "participant.joined",
        "participant.joined",
        "participant.joined",
        "participant.joined",
    ]
