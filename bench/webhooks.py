"""Webhook delivery: latency from commit to a healthy receiver, and throughput draining a backlog.

One ``python -m api`` process (embedded SQLite, the in-process sender) and one receiver process
(``testkit.webhook_receiver``, a threaded stdlib HTTP server) on this machine.

- Latency: events made one at a time (guests joining meetings, one ``participant.joined`` each); each one's
  latency is the receiver's arrival time minus the event's ``timestamp`` (set in the committing transaction).
- Throughput: the receiver is down while ``BACKLOG`` events are committed across ``MEETINGS`` meetings (so
  ``MEETINGS`` ordered queues), then started; deliveries per second from its first to its last arrival.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

from bench.graphql import CREATE, REQUEST_TIMEOUT_S, SIGN_UP, gql
from bench.loadgen import BenchFailed
from testkit.server import running_api
from testkit.webhook_receiver import Received, Receiver

LATENCY_EVENTS = 200
MEETINGS = 20
BACKLOG = 1000
DRAIN_TIMEOUT_S = 120.0
JOIN = "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { status } }"
ENDPOINT = """mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } } }"""
VERIFIED = "{ webhookEndpoints { verified } }"
ENV = {
    "API_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
    "API_WEBHOOK_RETRY_SCHEDULE": ",".join(["1"] * 200),
    "API_WEBHOOK_POLL": "0.2",
}


def _joined(received: list[Received]) -> list[Received]:
    return [r for r in received if r.payload["type"] == "participant.joined"]


async def _wait(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise BenchFailed(f"webhooks: timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _measure(base_url: str, receiver: Receiver) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S, trust_env=False) as http:
        email = f"bench-hooks-{secrets.token_hex(6)}@example.test"
        user = {"email": email, "password": "bench password", "displayName": "Host"}
        token = (await gql(http, SIGN_UP, {"i": user}))["signUp"]["accessToken"]
        await gql(http, ENDPOINT, {"i": {"url": receiver.url, "eventTypes": ["participant.joined"]}}, token)

        async def verified() -> bool:
            return bool((await gql(http, VERIFIED, {}, token))["webhookEndpoints"][0]["verified"])

        deadline = time.monotonic() + 30
        while not await verified():
            if time.monotonic() > deadline:
                raise BenchFailed("webhooks: the receiver's endpoint was not verified in 30 s")
            await asyncio.sleep(0.05)
        settings = {"maxParticipants": 1000, "joinBeforeHost": True, "guestWaitingRoom": False}
        meetings = [
            (await gql(http, CREATE, {"i": {"title": f"Hooks {n}", "passcode": "", "settings": settings}}, token))[
                "createMeeting"
            ]
            for n in range(MEETINGS)
        ]

        async def join(n: int) -> None:
            m = meetings[n % MEETINGS]
            await gql(http, JOIN, {"i": {"number": m["number"], "displayName": f"Guest {n}"}})

        # Latency: one event at a time, a short pause so each is delivered to an idle dispatcher.
        for n in range(LATENCY_EVENTS):
            await join(n)
            await asyncio.sleep(0.01)
        await _wait(lambda: len(_joined(receiver.received())) >= LATENCY_EVENTS, 60, "the latency events")
        lat = sorted(
            (r.received_at - datetime.fromisoformat(r.payload["timestamp"]).timestamp()) * 1000
            for r in _joined(receiver.received())
        )
        print(f"  latency: {len(lat)} events", flush=True)

        # Throughput: a backlog committed while the receiver is down, then drained.
        receiver.kill()
        sem = asyncio.Semaphore(8)

        async def bounded(n: int) -> None:
            async with sem:
                await join(n)

        await asyncio.gather(*(bounded(LATENCY_EVENTS + n) for n in range(BACKLOG)))
        before = len(_joined(receiver.received()))
        receiver.start()
        total = LATENCY_EVENTS + BACKLOG
        await _wait(lambda: len({r.id for r in _joined(receiver.received())}) >= total, DRAIN_TIMEOUT_S, "the backlog")
        drained = _joined(receiver.received())[before:]
        span = max(r.received_at for r in drained) - min(r.received_at for r in drained)
        print(f"  throughput: {len(drained)} deliveries in {span:.2f} s", flush=True)
    return {
        "webhook_delivery_p50_ms": round(statistics.median(lat), 2),
        "webhook_delivery_p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2),
        "webhook_throughput_per_s": round(len(drained) / span, 1) if span > 0 else 0.0,
    }


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="meetmesh-bench-hooks-") as tmp:
        receiver = Receiver(Path(tmp) / "received.jsonl")
        receiver.start()
        try:
            with running_api("meetmesh-bench-hooks-", extra_env=ENV) as api:
                return asyncio.run(_measure(api.url, receiver))
        finally:
            receiver.kill()
