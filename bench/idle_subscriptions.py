"""Idle subscriptions: what 10,000 open ``meetingEvents`` subscriptions cost one API process in memory (issue 16).

One API process (embedded defaults) and a client process of its own holding SUBSCRIBERS graphql-transport-ws
connections, one subscription each, as the meeting's host. The client speaks RFC 6455 directly over asyncio
streams (a few kB per connection, so 10,000 fit in one process; a ``websockets`` connection costs far more).

Reported: the server's resident memory growth per subscription (VmRSS after every subscription is live minus
before the first, over SUBSCRIBERS), its CPU time per subscription set up, and proof that every subscription was
live: one event afterwards must reach all of them (its delivery time is reported too, but it is not the fan-out
benchmark: see bench/fanout.py). Bounded: a fixed count, a deadline on every phase, every socket closed at the end.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import secrets
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

import httpx

from bench.fanout import JOIN, SEND, SUBSCRIBE
from bench.graphql import CREATE, SIGN_UP, gql
from bench.loadgen import BenchFailed
from testkit.server import log_tail, running_api

SUBSCRIBERS = 10_000
"""What issue 16 asks for. The bench stopped near 4,000 until December: uvicorn closed idle connections with
"keepalive ping timeout" (1011) because this client only started reading its connections once all were open,
and opening thousands takes longer than the server's 20 s ping interval plus 20 s timeout
(tests/integration/bench/test_idle_subscriptions.py)."""
CONNECT_CONCURRENCY = 100
PHASE_TIMEOUT_S = 300.0
OPEN_TIMEOUT_S = 60.0
SETTLE_S = 3.0
FD_HEADROOM = 200


# -- the client process ----------------------------------------------------------------------------------------


def _frame(text: str) -> bytes:
    """A masked text frame (RFC 6455 section 5.2: client-to-server frames are masked)."""
    return _masked(0x1, text.encode())


def _pong(ping: bytes) -> bytes:
    """The answer to a ping: a pong carrying the ping's application data (RFC 6455 section 5.5.3)."""
    return _masked(0xA, ping)


def _masked(opcode: int, payload: bytes) -> bytes:
    mask = secrets.token_bytes(4)
    n = len(payload)
    head = bytes([0x80 | opcode]) + (
        bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
    )  # our messages stay under 64 KiB
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", await reader.readexactly(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", await reader.readexactly(8))
    return b0 & 0x0F, await reader.readexactly(n)  # server frames are not masked (section 5.1)


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    events: int = 0
    close_reason: bytes = b""


async def _open(host: str, port: int, token: str, meeting_id: str, after: int) -> _Conn:
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    writer.write(
        (
            f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise BenchFailed(f"upgrade refused: {head[:200]!r}")
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
    writer.write(_frame(json.dumps(init)))
    opcode, body = await _read_frame(reader)
    if opcode != 1 or json.loads(body).get("type") != "connection_ack":
        raise BenchFailed(f"no connection_ack: {body[:200]!r}")
    # Subscribing from one event back makes the server replay that event first: its arrival proves the
    # subscription is set up, so at most CONNECT_CONCURRENCY set-ups are in flight on the server at once.
    payload = {"query": SUBSCRIBE, "variables": {"m": meeting_id, "after": after - 1}}
    writer.write(_frame(json.dumps({"id": "1", "type": "subscribe", "payload": payload})))
    while True:
        opcode, body = await _read_frame(reader)
        msg = json.loads(body) if opcode == 1 else {}
        if opcode == 0x9:  # uvicorn pings every 20 s and closes connections that do not answer
            writer.write(_pong(body))
        elif msg.get("type") == "ping":
            writer.write(_frame('{"type":"pong"}'))
        elif msg.get("type") == "next" and not msg["payload"].get("errors"):
            return _Conn(reader, writer)
        elif opcode == 1:
            raise BenchFailed(f"subscription not live: {body[:300]!r}")


async def _listen(conn: _Conn) -> None:
    while True:
        try:
            opcode, body = await _read_frame(conn.reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        if opcode == 0x9:
            conn.writer.write(_pong(body))
        elif opcode == 0x8:
            conn.close_reason = body[:200]
            return
        elif opcode == 0x1:
            msg = json.loads(body)
            if msg.get("type") == "ping":
                conn.writer.write(_frame('{"type":"pong"}'))
            elif msg.get("type") == "next":
                if msg["payload"].get("errors"):
                    raise BenchFailed(f"subscription error: {msg['payload']['errors']}")
                conn.events += 1
            elif msg.get("type") in ("error", "complete"):
                raise BenchFailed(f"subscription ended: {str(msg)[:200]}")


def _say(out: IO[str], **fields: Any) -> None:
    out.write(json.dumps(fields) + "\n")
    out.flush()


async def open_all(
    spec: dict[str, Any], concurrency: int = CONNECT_CONCURRENCY
) -> tuple[list[_Conn], list[asyncio.Task[None]]]:
    """Open ``spec["subscribers"]`` subscriptions, at most ``concurrency`` being set up at once, each read (pings
    answered, events counted) from the moment it is live; (connections, their readers)."""
    gate = asyncio.Semaphore(concurrency)
    conns: list[_Conn] = []
    listeners: list[asyncio.Task[None]] = []

    async def one() -> None:
        async with gate:
            conn = await asyncio.wait_for(
                _open(spec["host"], spec["port"], spec["token"], spec["meeting_id"], spec["after"]), OPEN_TIMEOUT_S
            )
        # Read it from now on, not once every connection is open: opening thousands takes longer than the
        # server's ping interval plus timeout, and an open connection nobody reads answers no ping (the server
        # then closes it with 1011 "keepalive ping timeout" - what capped this bench at ~4,000).
        conns.append(conn)
        listeners.append(asyncio.create_task(_listen(conn)))

    await asyncio.gather(*(one() for _ in range(spec["subscribers"])))
    return conns, listeners


async def client(spec: dict[str, Any]) -> None:
    """Open every subscription, say so, count events until told to stop (stdin lines: "count", "stop")."""
    cpu0 = time.process_time()
    conns, listeners = await open_all(spec)
    _say(sys.stdout, opened=len(conns), client_cpu_s=time.process_time() - cpu0)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if line.strip() == "count":
                failed = [t.exception() for t in listeners if t.done() and t.exception() is not None]
                closed = sum(1 for t in listeners if t.done()) - len(failed)
                received = sum(c.events for c in conns)
                _say(
                    sys.stdout,
                    received=received,
                    failed=len(failed),
                    closed=closed,
                    first=str(failed[:1]) + str({c.close_reason for c in conns if c.close_reason}),
                )
            else:
                return
    finally:
        for t in listeners:
            t.cancel()
        for c in conns:
            c.writer.close()


# -- the driver ------------------------------------------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchFailed(f"no VmRSS for process {pid}")


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read_line(proc: subprocess.Popen[str], what: str) -> dict[str, Any]:
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the client answers within its own deadlines or dies (then: EOF)
    if not line:
        raise BenchFailed(f"the subscription client exited while {what} (code {proc.wait(5)})")
    out: dict[str, Any] = json.loads(line)
    return out


async def _fixture(base_url: str) -> tuple[str, str, int]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30, trust_env=False) as http:
        email = f"idle-{secrets.token_hex(6)}@bench.test"
        token = (
            await gql(http, SIGN_UP, {"i": {"email": email, "password": "bench-password", "displayName": "Host"}})
        )["signUp"]["accessToken"]
        meeting = (await gql(http, CREATE, {"i": {"title": "idle", "settings": {"maxParticipants": 1000}}}, token))[
            "createMeeting"
        ]
        seq = (await gql(http, JOIN, {"i": {"number": meeting["number"]}}, token))["joinMeeting"]["eventSeq"]
    return token, meeting["id"], seq


async def _send_one(base_url: str, token: str, meeting_id: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30, trust_env=False) as http:
        await gql(http, SEND, {"i": {"meetingId": meeting_id, "text": "are you all there?"}}, token)


def run(subscribers: int = SUBSCRIBERS) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < subscribers + FD_HEADROOM:
        raise BenchFailed(
            f"{subscribers} subscriptions need {subscribers + FD_HEADROOM} file descriptors (hard {hard})"
        )
    # Children (the API, the client) inherit the raised soft limit.
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, subscribers * 2 + FD_HEADROOM)), hard))
    with running_api("meetmesh-bench-idle-") as api:
        token, meeting_id, seq = asyncio.run(_fixture(api.url))
        url = urlsplit(api.url)
        spec = {
            "host": url.hostname,
            "port": url.port,
            "token": token,
            "meeting_id": meeting_id,
            "after": seq,
            "subscribers": subscribers,
        }
        time.sleep(SETTLE_S)
        rss0, cpu0 = _rss_kb(api.pid), _cpu_s(api.pid)
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.idle_subscriptions", json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            opened = _read_line(proc, "opening subscriptions")
            open_s = time.perf_counter() - started
            time.sleep(SETTLE_S)  # the last subscriptions finish setting up (their replay reads) and go idle
            rss1, cpu1 = _rss_kb(api.pid), _cpu_s(api.pid)
            sent = time.perf_counter()
            asyncio.run(_send_one(api.url, token, meeting_id))
            deadline = time.perf_counter() + 60
            while True:
                assert proc.stdin is not None
                proc.stdin.write("count\n")
                proc.stdin.flush()
                got = _read_line(proc, "counting events")
                if got["failed"] or got["closed"]:
                    raise BenchFailed(
                        f"{got['failed']} subscriptions failed ({got['first']}), {got['closed']} closed by the server"
                    )
                if got["received"] >= subscribers or time.perf_counter() > deadline:
                    break
                time.sleep(0.05)
            delivered_s = time.perf_counter() - sent
            time.sleep(SETTLE_S)
            rss2 = _rss_kb(api.pid)  # per-connection state made by the first send (e.g. a compressor) shows here
            if got["received"] < subscribers:
                raise BenchFailed(f"only {got['received']} of {subscribers} subscriptions got the event in 60 s")
        except BenchFailed as exc:
            raise BenchFailed(f"{exc}\nthe API's log ends with:\n{log_tail(api.log_path)}") from None
        finally:
            if proc.stdin is not None and proc.poll() is None:
                proc.stdin.write("stop\n")
                proc.stdin.flush()
            try:
                proc.wait(PHASE_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
    per_sub_kb = (rss1 - rss0) / subscribers
    after_event_kb = (rss2 - rss0) / subscribers
    setup_ms = (cpu1 - cpu0) * 1000 / subscribers
    print(
        f"  {subscribers} idle subscriptions: server RSS {rss0 / 1024:.0f} -> {rss1 / 1024:.0f} MiB "
        f"({per_sub_kb:.1f} kB each; {after_event_kb:.1f} kB after one event), {setup_ms:.2f} CPU-ms each to "
        f"set up, opened in {open_s:.1f} s; one event reached all in {delivered_s:.2f} s",
        flush=True,
    )
    return {
        "ws_idle_memory_kb_per_subscription": round(per_sub_kb, 1),
        "ws_idle_subscriptions": subscribers,
        "ws_idle_server_rss_mb": round(rss1 / 1024, 1),
        "ws_idle_memory_kb_per_subscription_after_one_event": round(after_event_kb, 1),
        "ws_idle_setup_cpu_ms_per_subscription": round(setup_ms, 2),
        "ws_idle_one_event_to_all_s": round(delivered_s, 2),
        "ws_idle_client_cpu_s": round(opened["client_cpu_s"], 1),
        "ws_idle_source": (
            f"bench/idle_subscriptions.py: one API process (embedded SQLite, memory bus), {subscribers} "
            "graphql-transport-ws connections with one meetingEvents subscription each (as the host) from a raw "
            "RFC 6455 client in its own process; kB per subscription = server VmRSS growth from before the first "
            "connection to all live, divided by the count; then one chat event must reach every subscription."
        ),
    }


if __name__ == "__main__":
    asyncio.run(client(json.loads(sys.argv[1])))
