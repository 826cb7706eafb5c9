"""Shared documents (api/collab): whiteboard stroke and notes latency, and the server's CRDT throughput per core.

One ``python -m api`` process (embedded SQLite, default flush interval) and pycrdt clients (testkit/collab_peer.py)
in this process on the same 2 cores:

- ``whiteboard_stroke_p50_ms`` / ``_p95_ms``: 20 clients on one board; a stroke (a Y.Map of 60 points, one update)
  drawn by one is timed until it is applied on another (the next client in turn), 200 strokes one after another.
- ``notes_sync_p95_ms``: two clients on the notes; one character typed by one until it is in the other's text.
- ``crdt_updates_per_s_per_core``: all 20 clients send 100 small updates each at once, three times; the server's
  CPU time (its /proc utime+stime, 10 ms ticks) from the first send until every client holds all the updates.
  Each update is applied once, framed once, sent to 19 clients and stored in the flush batches: the whole path.
- ``notes_keys_per_s_per_core``: ten clients type in the notes at once, 100 keys each, three times; each key sent
  as the notes page sends it (the text update and the caret in awareness, which the server re-stamps with the
  typist's name and sends on); keystrokes per server CPU-second.
Bounded: a fixed number of operations, each waited for at most ``WAIT_S``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import time
from pathlib import Path

import httpx
from pycrdt import Array, Map

from bench.graphql import CREATE, SIGN_UP, gql
from bench.loadgen import BenchFailed
from testkit.collab_peer import CollabPeer
from testkit.server import running_api

CLIENTS = 20
STROKES = 200
POINTS = 60
KEYS = 300
BURST_PER_CLIENT = 100
BURST_ROUNDS = 3
WAIT_S = 10.0
TYPISTS = 10
TYPING_KEYS = 100
JOIN = "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { guestToken } }"


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def meeting_with_guests(base_url: str, guests: int = CLIENTS) -> tuple[dict[str, str], list[str]]:
    """A meeting (its ``id`` and ``number``) open to guests without a waiting room, and ``guests`` guest tokens."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30, trust_env=False) as http:
        email = f"bench-collab-{secrets.token_hex(6)}@example.test"
        host = (await gql(http, SIGN_UP, {"i": {"email": email, "password": "bench password", "displayName": "Host"}}))[
            "signUp"
        ]["accessToken"]
        settings = {"maxParticipants": 100, "joinBeforeHost": True, "guestWaitingRoom": False}
        create = {"i": {"title": "Bench collab", "passcode": "", "settings": settings}}
        meeting = (await gql(http, CREATE, create, host))["createMeeting"]
        tokens = []
        for n in range(guests):
            joined = await gql(http, JOIN, {"i": {"number": meeting["number"], "displayName": f"Drawer {n}"}})
            tokens.append(joined["joinMeeting"]["guestToken"])
    return meeting, tokens


async def _wait(peer: CollabPeer, predicate: object, what: str) -> None:
    try:
        await peer.wait_for(predicate, WAIT_S)  # type: ignore[arg-type]
    except TimeoutError:
        raise BenchFailed(f"collab: {what} did not arrive within {WAIT_S:g} s") from None


async def _strokes(peers: list[CollabPeer]) -> list[float]:
    samples = []
    for n in range(STROKES):
        sender, receiver = peers[n % CLIENTS], peers[(n + 1) % CLIENTS]
        shapes = receiver.doc.get("shapes", type=Array)
        want = n + 1
        points = [[float(n + i), float(i * 2), 0.5] for i in range(POINTS)]
        start = time.perf_counter()
        sender.doc.get("shapes", type=Array).append(Map({"tool": "pen", "color": "#000", "size": 4, "points": points}))
        await _wait(receiver, lambda s=shapes, w=want: len(s) >= w, f"stroke {n}")  # type: ignore[misc]
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def _notes(a: CollabPeer, b: CollabPeer) -> list[float]:
    samples = []
    for n in range(KEYS):
        text = b.text()
        want = n + 1
        start = time.perf_counter()
        a.text().insert(n, "x")
        await _wait(b, lambda t=text, w=want: len(str(t)) >= w, f"key {n}")  # type: ignore[misc]
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def _burst(peers: list[CollabPeer], pid: int) -> tuple[float, float]:
    total = cpu = wall = 0.0
    for round_ in range(BURST_ROUNDS):
        if round_:
            await asyncio.sleep(1.0)  # the per-connection message bucket refills (API_COLLAB_MESSAGES_PER_S)
        cpu0, wall0 = _cpu_s(pid), time.perf_counter()
        for k in range(BURST_PER_CLIENT):
            for p in peers:
                p.doc.get("burst", type=Array).append(k)
            await asyncio.sleep(0)
        total += CLIENTS * BURST_PER_CLIENT
        for p in peers:
            arr = p.doc.get("burst", type=Array)
            await _wait(p, lambda a=arr, n=total: len(a) >= n, "the burst")  # type: ignore[misc]
        cpu += _cpu_s(pid) - cpu0
        wall += time.perf_counter() - wall0
    return total / max(cpu, 1e-3), total / wall


def _caret(peer: CollabPeer, at: int) -> dict[str, object]:
    """An awareness state like the notes page's (web/collab/notes.js): a caret as two Yjs relative positions."""
    pos = {"type": None, "tname": None, "item": {"client": peer.doc.client_id, "clock": at}, "assoc": -1}
    return {"user": {"color": "hsl(210 70% 45%)"}, "caret": {"anchor": pos, "head": pos}}


async def _typing(peers: list[CollabPeer], pid: int) -> float:
    """Everyone types in the notes at once, each key as the page sends it: the text update and the caret
    (awareness, re-stamped with the typist's name by the server). Keystrokes per server CPU-second."""
    total = 0
    cpu = 0.0
    for round_ in range(BURST_ROUNDS):
        if round_:
            await asyncio.sleep(1.5)  # two messages a key: let the per-connection bucket refill
        cpu0 = _cpu_s(pid)
        for _ in range(TYPING_KEYS):
            for p in peers:
                text = p.text()
                text.insert(len(text), "x")
                await p.set_cursor(_caret(p, len(text)))
            await asyncio.sleep(0)
        total += len(peers) * TYPING_KEYS
        for p in peers:
            await _wait(p, lambda t=p.text(), n=total: len(str(t)) >= n, "the typing")  # type: ignore[misc]
        cpu += _cpu_s(pid) - cpu0
    return total / max(cpu, 1e-3)


async def _run(base_url: str, pid: int) -> dict[str, float]:
    meeting, tokens = await meeting_with_guests(base_url)
    meeting_id = meeting["id"]
    board = [CollabPeer(base_url, meeting_id, "board:main", t) for t in tokens]
    for p in board:
        await p.connect()
    try:
        strokes = await _strokes(board)
        per_core, per_s = await _burst(board, pid)
    finally:
        for p in board:
            await p.close()
    async with (
        CollabPeer(base_url, meeting_id, "notes", tokens[0]) as a,
        CollabPeer(base_url, meeting_id, "notes", tokens[1]) as b,
    ):
        keys = await _notes(a, b)
    typists = [CollabPeer(base_url, meeting_id, "notes", t) for t in tokens[:TYPISTS]]
    for p in typists:
        await p.connect()
    try:
        typing = await _typing(typists, pid)
    finally:
        for p in typists:
            await p.close()
    print(
        f"  strokes p50 {statistics.median(strokes):.2f} ms p95 {_pct(strokes, 95):.2f} ms; notes p95"
        f" {_pct(keys, 95):.2f} ms; burst {per_core:,.0f} updates/s per server core ({per_s:,.0f}/s wall);"
        f" {TYPISTS} typing with carets {typing:,.0f} keys/s per server core",
        flush=True,
    )
    return {
        "whiteboard_stroke_p50_ms": round(statistics.median(strokes), 2),
        "whiteboard_stroke_p95_ms": round(_pct(strokes, 95), 2),
        "notes_sync_p95_ms": round(_pct(keys, 95), 2),
        "crdt_updates_per_s_per_core": round(per_core, 1),
        "crdt_updates_per_s_wall": round(per_s, 1),
        "notes_keys_per_s_per_core": round(typing, 1),
    }


def run() -> dict[str, float]:
    with running_api("meetmesh-bench-collab-") as api:
        return asyncio.run(_run(api.url, api.pid))
