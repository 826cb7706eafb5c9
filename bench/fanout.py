"""Event fan-out latency: one mutation → N subscribed WebSockets, embedded (in-process bus) vs Redis bus.

Latency of one delivery = arrival at the subscriber's socket (client-side clock) minus the moment the mutation was
sent. Every subscriber connection is a real graphql-transport-ws socket to a real API process; the clients
share this process and the 2 cores with the server, which is reported in the notes. Because latency on a shared
2-core host moves with whatever else runs, the server's CPU time over the timed events is reported too, per
delivery (``*_server_us_per_delivery``): it does not depend on how much of a core the server was given.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import websockets

from bench.graphql import CREATE, SIGN_UP, gql
from bench.loadgen import BenchFailed
from testkit.server import running_api

SUBSCRIBERS = 1000
EVENTS = 20
EVENT_GAP_S = 0.3
DELIVERY_TIMEOUT_S = 20.0
REDIS_URL = "redis://127.0.0.1:6379/0"

JOIN = "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { eventSeq participant { id } } }"
SUBSCRIBE = """subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) {
  seq type actorId
  ... on ParticipantEvent { participant { id displayName audioMuted } }
  ... on ChatMessageEvent { message { id text senderId senderName } } } }"""
TOGGLE = "mutation($m: ID!, $muted: Boolean!) { updateMyMedia(meetingId: $m, input: {audioMuted: $muted}) { id } }"
SEND = "mutation($i: SendChatMessageInput!) { sendChatMessage(input: $i) { id } }"

Trigger = Callable[[httpx.AsyncClient, str, str, int], Awaitable[None]]
"""Send one event-producing mutation: (http, token, meeting id, k)."""


async def toggle_mute(http: httpx.AsyncClient, token: str, meeting_id: str, k: int) -> None:
    await gql(http, TOGGLE, {"m": meeting_id, "muted": k % 2 == 0}, token)


async def send_chat(http: httpx.AsyncClient, token: str, meeting_id: str, k: int) -> None:
    await gql(http, SEND, {"i": {"meetingId": meeting_id, "text": f"fan-out message {k}"}}, token)


@dataclass
class Subscriber:
    ws: Any
    arrivals: dict[int, float]


async def _subscribe(url: str, token: str, meeting_id: str, after: int) -> Subscriber:
    ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None)  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 30))
    if ack.get("type") != "connection_ack":
        raise BenchFailed(f"subscription refused: {ack}")
    payload = {"query": SUBSCRIBE, "variables": {"m": meeting_id, "after": after}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return Subscriber(ws, {})


async def _receive(sub: Subscriber, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            raw = await sub.ws.recv()
        except websockets.ConnectionClosed:
            return
        now = time.perf_counter()
        msg = json.loads(raw)
        if msg.get("type") == "ping":
            await sub.ws.send('{"type":"pong"}')
        elif msg.get("type") == "next":
            if msg["payload"].get("errors"):
                raise BenchFailed(f"subscription error: {msg['payload']['errors']}")
            sub.arrivals[msg["payload"]["data"]["meetingEvents"]["seq"]] = now
        elif msg.get("type") in ("error", "complete"):
            raise BenchFailed(f"subscription ended: {msg}")


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)] * 1000


@dataclass
class Measured:
    latencies_s: list[float]
    """One per delivery."""
    server_cpu_s: float | None
    """The server process's CPU time over the timed events (None without its pid)."""


async def measure(
    base_url: str,
    trigger: Trigger,
    subscribers: int = SUBSCRIBERS,
    events: int = EVENTS,
    server_pid: int | None = None,
) -> Measured:
    """Latencies (seconds) of every delivery of ``events`` events to ``subscribers`` sockets."""
    ws_url = base_url.replace("http", "ws", 1) + "/graphql"
    async with httpx.AsyncClient(base_url=base_url, timeout=30, trust_env=False) as http:
        email = f"fanout-{secrets.token_hex(6)}@bench.test"
        token = (
            await gql(http, SIGN_UP, {"i": {"email": email, "password": "bench-password", "displayName": "Host"}})
        )["signUp"]["accessToken"]
        meeting = (await gql(http, CREATE, {"i": {"title": "fan-out", "settings": {"maxParticipants": 1000}}}, token))[
            "createMeeting"
        ]
        seq = (await gql(http, JOIN, {"i": {"number": meeting["number"]}}, token))["joinMeeting"]["eventSeq"]
        # Every socket subscribes as the host: what is measured is the server's per-subscriber work.
        subs: list[Subscriber] = []
        for start in range(0, subscribers, 100):
            batch = [_subscribe(ws_url, token, meeting["id"], seq) for _ in range(start, min(subscribers, start + 100))]
            subs.extend(await asyncio.gather(*batch))
        stop = asyncio.Event()
        receivers = [asyncio.create_task(_receive(s, stop)) for s in subs]
        try:
            # A warm-up event proves every subscription is live before anything is timed.
            await trigger(http, token, meeting["id"], -1)
            await _all_have(subs, seq + 1, receivers)
            latencies: list[float] = []
            cpu0 = _cpu_s(server_pid) if server_pid else 0.0
            for k in range(events):
                expected = seq + 2 + k
                sent = time.perf_counter()
                await trigger(http, token, meeting["id"], k)
                await _all_have(subs, expected, receivers)
                latencies.extend(s.arrivals[expected] - sent for s in subs)
                await asyncio.sleep(EVENT_GAP_S)
            cpu = _cpu_s(server_pid) - cpu0 if server_pid else None
            return Measured(latencies, cpu)
        finally:
            stop.set()
            for r in receivers:
                r.cancel()
            await asyncio.gather(*(s.ws.close() for s in subs), return_exceptions=True)
            await asyncio.gather(*receivers, return_exceptions=True)


async def _all_have(subs: list[Subscriber], seq: int, receivers: list[asyncio.Task[None]]) -> None:
    deadline = time.perf_counter() + DELIVERY_TIMEOUT_S
    while any(seq not in s.arrivals for s in subs):
        for r in receivers:
            if r.done() and r.exception() is not None:
                raise BenchFailed(f"a subscriber failed: {r.exception()}")
        if time.perf_counter() > deadline:
            missing = sum(seq not in s.arrivals for s in subs)
            raise BenchFailed(f"{missing} of {len(subs)} subscribers did not get event {seq} in {DELIVERY_TIMEOUT_S} s")
        await asyncio.sleep(0.002)


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime (proc(5))


async def _summarise(label: str, got: Measured, suffix: str, key: str) -> dict[str, float]:
    latencies = got.latencies_s
    p50, p99 = round(_pct(latencies, 50), 2), round(_pct(latencies, 99), 2)
    out = {f"{key}_p50_ms{suffix}": p50, f"{key}_p99_ms{suffix}": p99}
    line = f"  {label}: {len(latencies)} deliveries, p50 {p50} ms, p99 {p99} ms"
    if got.server_cpu_s is not None:
        # The timed events' server CPU, spread over their deliveries (their trigger requests included).
        out[f"{key}_server_us_per_delivery{suffix}"] = round(got.server_cpu_s * 1e6 / len(latencies), 1)
        line += f", server {out[f'{key}_server_us_per_delivery{suffix}']} CPU-us per delivery"
    print(line, flush=True)
    return out


def run(trigger: Trigger = send_chat, key: str = "chat_fanout_1000") -> dict[str, float]:
    """Embedded and Redis modes, one after the other in this run."""
    out: dict[str, float] = {}
    for label, suffix, env in [
        ("embedded bus", "", {}),
        ("redis bus", "_redis", {"REDIS_URL": REDIS_URL, "API_REDIS_PREFIX": f"meetmesh-bench-{secrets.token_hex(4)}"}),
    ]:
        with running_api(extra_env=env) as api:
            got = asyncio.run(measure(api.url, trigger, server_pid=api.pid))
        out.update(asyncio.run(_summarise(label, got, suffix, key)))
    return out
