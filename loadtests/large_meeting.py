"""``python -m loadtests.large_meeting --participants N --publishers P --seconds S``: the largest meeting one edge
process holds on this machine, measured with synthetic aiortc peers through the real API and edge.

P participants publish pre-encoded VP8 (320x240, 15 fps) and Opus; everyone else is receive-only: it joins with
GraphQL ``joinMeeting``, sends the edge ``join`` and answers the edge's offers (the edge's last-N, 25 by default,
caps the videos each one gets; above 50 people only the loudest 3 microphones are forwarded). The generator does
not decode: in its worker processes aiortc's decoder thread is replaced by one that only counts assembled frames,
and packets are counted from aiortc's inbound-rtp stats, so the figures are what the *edge* holds, not what the
Python client could decode.

People join in steps (``--step``) spread over ``--workers`` generator processes. After each step the edge's CPU
(user + sys from /proc, % of one core: the edge is one asyncio process) is sampled; the ramp stops adding people
when a join fails, the edge's CPU reaches ``--cpu-limit``, the generator's workers saturate (then the limit found
is the generator's, and the report says so), N is reached or the wall-clock bound is near. Then media flows for S
seconds at the size reached and the report gives: participants joined, join times p50/p95 (joinMeeting sent →
edge ``joined``, and → the edge's first offer answered), edge CPU %, forwarded packets/s (received by all peers),
packets/s per receiver, loss, the generator's CPU, and where and why the ramp stopped.

Bounded: N ≤ 1000, S ≤ 120, a hard wall-clock bound (``--max-wall``, ≤ 900 s) after which every process is
stopped. Starts its own throwaway stack (``testkit.media_stack``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import queue
import secrets
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from loadtests.cli import bounded_int

MAX_PARTICIPANTS = 1000
MAX_SECONDS = 120
MAX_WALL_S = 900
JOIN_TIMEOUT_S = 30.0
SETTLE_S = 1.0
"""After a step's newcomers all have media, before sampling."""
MEDIA_TIMEOUT_S = 30.0
"""A step's newcomers must all have received media within this; else the ramp stops (the edge is not keeping
up, or something broke)."""
MEDIA_POLL_S = 0.5
PROBE_S = 3.0
"""CPU sampling window after each step."""
GENERATOR_SATURATED = 0.95
"""A worker above this share of a core cannot be trusted to keep up: the limit found would be the generator's."""

SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }"
CREATE = "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id number } }"
JOIN = """mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) {
  status participant { id } joinToken { token edgeUrl } } }"""


def proc_cpu_s(pid: int) -> float | None:
    """utime + stime of a process from /proc (Linux), or None where that is not readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the generator's worker process ------------------------------------------------------------------------------

_FRAMES = [0]
"""Frames aiortc assembled in this worker (counted instead of decoded)."""


def _counting_decoder_worker(loop: Any, input_q: queue.Queue[Any], output_q: Any, decode_error: Any) -> None:
    """Stands in for ``aiortc.rtcrtpreceiver.decoder_worker``: takes the assembled frames off the queue and
    counts them; nothing is decoded, nothing reaches the track until it ends."""
    while True:
        task = input_q.get()
        if task is None:
            asyncio.run_coroutine_threadsafe(output_q.put(None), loop)
            return
        _FRAMES[0] += 1  # approximate across threads; a sanity count, not a metric


class _Peer:
    """One synthetic participant in a worker: GraphQL join, signalling socket, aiortc peer (publishing or not)."""

    def __init__(self, name: str) -> None:
        from edge.synthetic import SyntheticParticipant

        self.name = name
        self.peer = SyntheticParticipant()
        self.api_ms: float | None = None
        self.joined_ms: float | None = None
        self.negotiated_ms: float | None = None
        self.subscribed_ms: float | None = None
        """The edge's first offer (others' media) answered."""
        self.errors: list[str] = []
        self._ws: Any = None
        self._task: asyncio.Task[None] | None = None
        self._started = 0.0
        self._negotiated = asyncio.Event()
        self._negotiator: Any = None
        self.connected_ms: float | None = None
        self.first_packet_ms: float | None = None
        """joinMeeting sent → the first RTP packet from the edge (polled every ``MEDIA_POLL_S``)."""

        @self.peer.pc.on("connectionstatechange")
        def on_state() -> None:
            if self.peer.pc.connectionState == "connected" and self.connected_ms is None:
                self.connected_ms = self._since()

    async def join(self, http: Any, number: str, token: str | None, clips: list[Any]) -> None:
        from websockets.asyncio.client import connect

        from edge.synthetic import PoliteNegotiator
        from protocol.signalling import Answer, Join, Joined, Offer, encode, parse_edge_message

        self._started = time.monotonic()
        headers = {"authorization": f"Bearer {token}"} if token else {}
        variables = {"i": {"number": number, "displayName": self.name}}
        res = await http.post("/graphql", json={"query": JOIN, "variables": variables}, headers=headers)
        body = res.json()
        data = (body.get("data") or {}).get("joinMeeting")
        if res.status_code != 200 or body.get("errors") or not data:
            raise RuntimeError(f"joinMeeting HTTP {res.status_code}: {str(body.get('errors'))[:200]}")
        if data["status"] != "ADMITTED" or not data["joinToken"]:
            raise RuntimeError(f"not admitted: {data['status']}")
        self.api_ms = self._since()
        self._ws = await connect(data["joinToken"]["edgeUrl"], proxy=None, open_timeout=JOIN_TIMEOUT_S)
        await self._ws.send(encode(Join(token=data["joinToken"]["token"])))
        reply = parse_edge_message(await asyncio.wait_for(self._ws.recv(), JOIN_TIMEOUT_S))
        if not isinstance(reply, Joined):
            raise RuntimeError(f"edge answered {reply} to join")
        self.joined_ms = self._since()
        ws = self._ws

        async def send(msg: Offer | Answer) -> None:
            await ws.send(encode(msg))

        # Polite perfect negotiation (W3C webrtc-pc section 10.7): the edge's offer of others' media may cross
        # this participant's own first offer.
        self._negotiator = PoliteNegotiator(self.peer.pc, send)
        self._task = asyncio.create_task(self._read())
        for clip in clips:
            self.peer.publish(clip)
        if not clips:
            # Receive-only: the edge admits a participant to its room's subscriptions on its first offer, so one
            # is made all the same, with a receive-only microphone m-line (nothing published); the edge then
            # offers what this participant may see (last-N videos, the audio forwarded).
            self.peer.subscribe("audio", "audio/opus")
        await self._negotiator.offer()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._negotiated.wait(), JOIN_TIMEOUT_S)
        if not self._negotiated.is_set():
            raise RuntimeError(f"no negotiation with the edge within {JOIN_TIMEOUT_S:g} s of joining")

    def _since(self) -> float:
        return round((time.monotonic() - self._started) * 1000, 1)

    async def _read(self) -> None:
        from protocol.signalling import Answer, Offer, parse_edge_message

        try:
            async for text in self._ws:
                msg = parse_edge_message(text)
                if isinstance(msg, Answer | Offer):
                    await self._negotiator.handle(msg)
                    if isinstance(msg, Offer) and self.subscribed_ms is None:
                        self.subscribed_ms = self._since()
                else:
                    continue  # tracks / speakers / other notices: not what is measured here
                if self.negotiated_ms is None:
                    self.negotiated_ms = self._since()
                    self._negotiated.set()
        except Exception as exc:  # the task boundary of this participant's signalling
            self.errors.append(f"signalling: {type(exc).__name__}: {exc}")

    async def stats(self) -> tuple[int, int, int]:
        """(RTP packets received, lost, remote tracks with packets) over every receiving transceiver."""
        received = lost = tracks = 0
        for transceiver in self.peer.pc.getTransceivers():
            if transceiver.currentDirection not in ("recvonly", "sendrecv"):
                continue
            for stat in (await transceiver.receiver.getStats()).values():
                if getattr(stat, "type", "") == "inbound-rtp":
                    received += int(stat.packetsReceived)
                    lost += max(0, int(stat.packetsLost))
                    tracks += int(stat.packetsReceived) > 0
        return received, lost, tracks

    def problems(self) -> list[str]:
        state = self.peer.pc.connectionState
        return [*self.errors, *([f"peer connection {state}"] if state in ("failed", "closed") else [])]

    async def watch_media(self) -> None:
        while self.first_packet_ms is None:
            received, _, _ = await self.stats()
            if received:
                self.first_packet_ms = self._since()
                return
            await asyncio.sleep(MEDIA_POLL_S)

    async def close(self) -> None:
        from protocol.signalling import Leave, encode

        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.send(encode(Leave()))
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        await self.peer.close()


def _worker_main(conn: Connection, api_url: str, number: str, host_token: str) -> None:
    """A generator process: joins the participants it is told to, answers stats requests, closes on ``close``."""
    import aiortc.rtcrtpreceiver

    aiortc.rtcrtpreceiver.decoder_worker = _counting_decoder_worker
    asyncio.run(_worker(conn, api_url, number, host_token))


async def _worker(conn: Connection, api_url: str, number: str, host_token: str) -> None:
    import httpx

    from edge.ice import use_host_addresses
    from edge.synthetic import encode_opus_clip, encode_vp8_clip

    use_host_addresses(["127.0.0.1"])
    clips = [encode_vp8_clip(frames=30, fps=15, gop=15), encode_opus_clip()]
    peers: list[_Peer] = []
    watchers: list[asyncio.Task[None]] = []
    loop = asyncio.get_running_loop()
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=api_url, timeout=JOIN_TIMEOUT_S, trust_env=False, limits=limits) as http:
        try:
            while True:
                cmd, arg = await loop.run_in_executor(None, conn.recv)
                if cmd == "join":
                    fresh = [(_Peer(name), publish, host) for name, publish, host in arg]
                    outcomes = await asyncio.gather(
                        *(
                            p.join(http, number, host_token if host else None, clips if pub else [])
                            for p, pub, host in fresh
                        ),
                        return_exceptions=True,
                    )
                    out = []
                    for (p, _, _), outcome in zip(fresh, outcomes, strict=True):
                        peers.append(p)
                        if not isinstance(outcome, BaseException):
                            watchers.append(asyncio.create_task(p.watch_media()))
                        error = f"{type(outcome).__name__}: {outcome}" if isinstance(outcome, BaseException) else ""
                        out.append((p.name, p.api_ms, p.joined_ms, p.negotiated_ms, error))
                    conn.send(out)
                elif cmd == "media":
                    # Wait (at most ``arg`` s) until everyone here has had a packet from the edge.
                    pending = [w for w in watchers if not w.done()]
                    if pending:
                        await asyncio.wait(pending, timeout=arg)
                    conn.send(sum(1 for w in watchers if not w.done()))
                elif cmd == "stats":
                    rows = []
                    for p in peers:
                        received, lost, tracks = await p.stats()
                        rows.append(
                            (
                                p.name,
                                received,
                                lost,
                                tracks,
                                p.problems(),
                                p.subscribed_ms,
                                p.connected_ms,
                                p.first_packet_ms,
                            )
                        )
                    conn.send((rows, _FRAMES[0]))
                else:
                    break
        finally:
            for w in watchers:
                w.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
            await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)
            conn.send("closed")


# -- the orchestrator ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Step:
    participants: int
    edge_cpu_percent: float | None
    generator_cpu_percent_max_worker: float
    received_pps: float


@dataclass(slots=True)
class LargeMeetingReport:
    participants_asked: int
    publishers: int
    seconds: float
    workers: int
    last_n: int = 25
    participants_joined: int = 0
    joins_failed: int = 0
    join_edge_ms_p50: float | None = None
    join_edge_ms_p95: float | None = None
    """joinMeeting sent → the edge's ``joined``."""
    join_negotiated_ms_p50: float | None = None
    join_negotiated_ms_p95: float | None = None
    """joinMeeting sent → the edge answered the participant's first offer."""
    join_subscribed_ms_p50: float | None = None
    join_subscribed_ms_p95: float | None = None
    """Receivers: joinMeeting sent → the edge's first offer of others' media answered (media can flow)."""
    join_connected_ms_p50: float | None = None
    join_connected_ms_p95: float | None = None
    """joinMeeting sent → the peer connection (ICE + DTLS) connected."""
    never_connected: int = 0
    join_first_packet_ms_p50: float | None = None
    join_first_packet_ms_p95: float | None = None
    """joinMeeting sent → the first RTP packet from the edge (polled every 0.5 s, so ±0.5 s)."""
    edge_cpu_percent: float | None = None
    """The edge process over the steady window, % of one core (user + sys)."""
    generator_cpu_percent: float = 0.0
    """All generator worker processes together over the steady window, % of one core."""
    forwarded_pps: float = 0.0
    """RTP packets/s the edge delivered, counted by every receiving peer over the steady window."""
    received_pps_per_receiver_p50: float = 0.0
    received_pps_per_receiver_min: float = 0.0
    remote_tracks_per_receiver_p50: float = 0.0
    loss_fraction: float = 0.0
    edge_cpu_percent_per_1000_pps: float | None = None
    frames_assembled: int = 0
    receivers_without_media: int = 0
    """Participants that received no packet in the steady window."""
    people: dict[str, tuple[float, int]] = field(default_factory=dict)
    """Participant → (packets/s received in the steady window, remote tracks with packets)."""
    stopped_because: str = ""
    ramp: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    cpu_count: int = field(default_factory=lambda: os.cpu_count() or 0)
    edge_log_tail: str = ""
    wall_s: float = 0.0


Row = tuple[str, int, int, int, list[str], float | None, float | None, float | None]
"""A participant's (name, packets received, lost, remote tracks with packets, errors, ms to first edge offer)."""


class _Workers:
    def __init__(self, count: int, api_url: str, number: str, host_token: str, deadline: float) -> None:
        ctx = mp.get_context("spawn")  # a clean interpreter: no inherited event loop or threads
        self.deadline = deadline
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        for _ in range(count):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(child, api_url, number, host_token), daemon=True)
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)

    def _recv(self, conn: Connection, timeout: float) -> Any:
        wait = min(timeout, self.deadline - time.monotonic())
        if wait <= 0 or not conn.poll(wait):
            raise TimeoutError("a generator worker did not answer in time")
        return conn.recv()

    def join(self, batches: list[list[tuple[str, bool, bool]]]) -> list[tuple[str, Any, Any, Any, str]]:
        busy = [(conn, batch) for conn, batch in zip(self.conns, batches, strict=True) if batch]
        for conn, batch in busy:
            conn.send(("join", batch))
        out = []
        for conn, batch in busy:
            out.extend(self._recv(conn, JOIN_TIMEOUT_S * 2 + 10 * len(batch)))
        return list(out)

    def wait_media(self, timeout: float) -> int:
        """Wait until every joined participant has had a packet (at most ``timeout`` s); how many have not."""
        for conn in self.conns:
            conn.send(("media", timeout))
        return sum(self._recv(conn, timeout + 30) for conn in self.conns)

    def stats(self) -> tuple[list[Row], int]:
        for conn in self.conns:
            conn.send(("stats", None))
        rows: list[Row] = []
        frames = 0
        for conn in self.conns:
            got, n = self._recv(conn, 60)
            rows.extend(got)
            frames += n
        return rows, frames

    def cpu_s(self) -> list[float]:
        return [proc_cpu_s(p.pid) or 0.0 for p in self.procs]

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(Exception):
                conn.send(("close", None))
        for conn in self.conns:
            with contextlib.suppress(Exception):
                if conn.poll(30):
                    conn.recv()
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def _create_meeting(api_url: str, size: int) -> tuple[str, str]:
    import httpx

    with httpx.Client(base_url=api_url, timeout=JOIN_TIMEOUT_S, trust_env=False) as http:

        def gql(query: str, variables: dict[str, Any], token: str | None = None) -> Any:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            body = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers).json()
            if body.get("errors") or not body.get("data"):
                raise RuntimeError(f"GraphQL: {body.get('errors')}")
            return body["data"]

        email = f"large-meeting-{secrets.token_hex(6)}@loadtest.test"
        token = gql(SIGN_UP, {"i": {"email": email, "password": "large meeting pw", "displayName": "Host"}})
        token = token["signUp"]["accessToken"]
        settings = {
            "maxParticipants": max(2, size),
            "allowGuests": True,
            "joinBeforeHost": True,
            "guestWaitingRoom": False,
        }
        created = gql(CREATE, {"i": {"title": "large meeting", "passcode": "", "settings": settings}}, token)
        return created["createMeeting"]["number"], token


def _sample(workers: _Workers, edge_pid: int, seconds: float) -> tuple[float | None, list[float], int, float]:
    """(edge CPU %, each worker's CPU %, packets received over the window, window s)."""
    rows0, _ = workers.stats()
    e0, w0, t0 = proc_cpu_s(edge_pid), workers.cpu_s(), time.monotonic()
    time.sleep(seconds)
    e1, w1, wall = proc_cpu_s(edge_pid), workers.cpu_s(), time.monotonic() - t0
    rows1, _ = workers.stats()
    edge = None if e0 is None or e1 is None else round(100 * (e1 - e0) / wall, 1)
    gen = [round(100 * (b - a) / wall, 1) for a, b in zip(w0, w1, strict=True)]
    received = sum(r[1] for r in rows1) - sum(r[1] for r in rows0)
    return edge, gen, received, wall


def run(
    api_url: str,
    edge_pid: int,
    participants: int,
    publishers: int,
    seconds: float,
    *,
    workers: int = 2,
    step: int = 25,
    cpu_limit: float = 90.0,
    max_wall_s: float = 600.0,
    log: Any = sys.stderr,
) -> LargeMeetingReport:
    if not 2 <= participants <= MAX_PARTICIPANTS or not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"participants must be 2..{MAX_PARTICIPANTS} and seconds 0..{MAX_SECONDS}")
    if not 1 <= publishers <= participants or not 0 < max_wall_s <= MAX_WALL_S:
        raise ValueError(f"publishers must be 1..participants and max_wall_s 0..{MAX_WALL_S}")
    started = time.monotonic()
    # The steady window, sampling and closing must fit in the bound too.
    deadline = started + max_wall_s
    ramp_deadline = deadline - seconds - 60
    report = LargeMeetingReport(participants, publishers, seconds, workers)
    number, host_token = _create_meeting(api_url, participants)
    pool = _Workers(workers, api_url, number, host_token, deadline)
    joins: list[tuple[str, Any, Any, Any, str]] = []
    publisher_names = {f"p{i}" for i in range(publishers)}
    try:
        while len(joins) < participants:
            if time.monotonic() > ramp_deadline:
                report.stopped_because = f"wall-clock bound ({max_wall_s:g} s) near"
                break
            n0 = len(joins)
            # Publishers first (the host among them), in steps like everyone: 25 publishers joining at once make
            # 25 x 24 renegotiations at the same moment, which is not how people arrive.
            size = min(step, participants - n0)
            people = [(f"p{n0 + i}", n0 + i < publishers, n0 + i == 0) for i in range(size)]
            batches: list[list[tuple[str, bool, bool]]] = [[] for _ in range(workers)]
            for i, person in enumerate(people):
                batches[(n0 + i) % workers].append(person)
            got = pool.join(batches)
            joins.extend(got)
            failed = [g for g in got if g[4]]
            waiting = pool.wait_media(MEDIA_TIMEOUT_S)
            time.sleep(SETTLE_S)
            edge, gen, received, wall = _sample(pool, edge_pid, PROBE_S)
            report.ramp.append(Step(len(joins), edge, max(gen), round(received / wall, 1)))
            print(
                f"ramp: {len(joins)} joined ({waiting} without media), edge CPU {edge}%, generator workers {gen}%, "
                f"{received / wall:.0f} packets/s delivered",
                file=log,
                flush=True,
            )
            if failed:
                report.stopped_because = f"{len(failed)} join(s) failed at {len(joins)}: {failed[0][0]}: {failed[0][4]}"
                break
            if waiting:
                report.stopped_because = (
                    f"{waiting} participant(s) had no packet {MEDIA_TIMEOUT_S:g} s after joining, at {len(joins)}"
                )
                break
            if edge is not None and edge >= cpu_limit:
                report.stopped_because = f"edge CPU {edge}% ≥ {cpu_limit:g}% of a core at {len(joins)} participants"
                break
            if max(gen) >= 100 * GENERATOR_SATURATED:
                report.stopped_because = (
                    f"generator saturated (a worker at {max(gen)}% of a core) at {len(joins)} participants: the limit"
                    " found is the generator's, not the edge's"
                )
                break
        else:
            report.stopped_because = f"all {participants} asked for joined"
        ok = [j for j in joins if not j[4]]
        report.participants_joined = len(ok)
        report.joins_failed = len(joins) - len(ok)
        edge_ms = [j[2] for j in ok if j[2] is not None]
        neg_ms = [j[3] for j in ok if j[3] is not None]
        report.join_edge_ms_p50, report.join_edge_ms_p95 = _pct(edge_ms, 0.5), _pct(edge_ms, 0.95)
        report.join_negotiated_ms_p50, report.join_negotiated_ms_p95 = _pct(neg_ms, 0.5), _pct(neg_ms, 0.95)

        # The steady window at the size reached.
        rows0, _ = pool.stats()
        e0, w0, t0 = proc_cpu_s(edge_pid), pool.cpu_s(), time.monotonic()
        time.sleep(max(0.0, min(seconds, deadline - time.monotonic() - 45)))
        e1, w1, wall = proc_cpu_s(edge_pid), pool.cpu_s(), time.monotonic() - t0
        rows1, frames = pool.stats()
        report.frames_assembled = frames
        if e0 is not None and e1 is not None:
            report.edge_cpu_percent = round(100 * (e1 - e0) / wall, 1)
        report.generator_cpu_percent = round(100 * (sum(w1) - sum(w0)) / wall, 1)
        before = {r[0]: r for r in rows0}
        rates, tracks, lost, got_total = [], [], 0, 0
        subscribed = [r[5] for r in rows1 if r[5] is not None and r[0] not in publisher_names]
        report.join_subscribed_ms_p50, report.join_subscribed_ms_p95 = _pct(subscribed, 0.5), _pct(subscribed, 0.95)
        connected = [r[6] for r in rows1 if r[6] is not None]
        report.join_connected_ms_p50, report.join_connected_ms_p95 = _pct(connected, 0.5), _pct(connected, 0.95)
        report.never_connected = len(rows1) - len(connected)
        media = [r[7] for r in rows1 if r[7] is not None]
        report.join_first_packet_ms_p50, report.join_first_packet_ms_p95 = _pct(media, 0.5), _pct(media, 0.95)
        for name, received, lost_n, n_tracks, errors, *_ in rows1:
            b = before.get(name, (name, 0, 0, 0, [], None, None, None))
            rates.append((received - b[1]) / wall)
            report.people[name] = (round(rates[-1], 1), n_tracks)
            tracks.append(n_tracks)
            lost += lost_n - b[2]
            got_total += received - b[1]
            if errors:
                report.problems.append(f"{name}: {'; '.join(errors)[:200]}")
        report.forwarded_pps = round(got_total / wall, 1)
        report.receivers_without_media = sum(1 for r in rates if r == 0)
        if rates:
            report.received_pps_per_receiver_p50 = round(statistics.median(rates), 1)
            report.received_pps_per_receiver_min = round(min(rates), 1)
            report.remote_tracks_per_receiver_p50 = float(statistics.median(tracks))
        report.loss_fraction = round(max(0, lost) / (got_total + max(0, lost)), 4) if got_total else 0.0
        if report.edge_cpu_percent is not None and report.forwarded_pps:
            report.edge_cpu_percent_per_1000_pps = round(1000 * report.edge_cpu_percent / report.forwarded_pps, 2)
        if got_total == 0:
            report.problems.append("no RTP packet was received in the steady window")
        for j in joins:
            if j[4]:
                report.problems.append(f"{j[0]} join: {j[4][:200]}")
    finally:
        pool.close()
        report.wall_s = round(time.monotonic() - started, 1)
    return report


def main(argv: list[str] | None = None) -> int:
    from testkit.media_stack import running_stack
    from testkit.server import ApiStartError

    parser = argparse.ArgumentParser(prog="python -m loadtests.large_meeting", description=__doc__)
    parser.add_argument(
        "--participants", type=bounded_int(2, MAX_PARTICIPANTS), default=100, help="most people to join"
    )
    parser.add_argument("--publishers", type=bounded_int(1, MAX_PARTICIPANTS), default=25, help="of them, publishing")
    parser.add_argument("--seconds", type=bounded_int(1, MAX_SECONDS), default=20, help="steady media time at the end")
    parser.add_argument("--workers", type=bounded_int(1, 8), default=2, help="generator processes")
    parser.add_argument("--step", type=bounded_int(1, 200), default=25, help="people added per ramp step")
    parser.add_argument("--cpu-limit", type=float, default=90.0, help="stop the ramp at this edge CPU (%% of a core)")
    parser.add_argument("--max-wall", type=bounded_int(30, MAX_WALL_S), default=600, help="hard wall-clock bound, s")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    if args.publishers > args.participants:
        parser.error("--publishers must not exceed --participants")

    def guard() -> None:
        # The hard bound: whatever hangs, the process ends (its children are daemons; the stack's are stopped by
        # the context manager when the main thread can still run it, else the OS reaps them with this process).
        time.sleep(args.max_wall + 60)
        print(f"FAIL: wall-clock bound of {args.max_wall} s (+60 s) exceeded", file=sys.stderr, flush=True)
        os._exit(2)

    threading.Thread(target=guard, daemon=True).start()
    try:
        with running_stack(prefix="meetmesh-large-meeting-") as stack:
            report = run(
                stack.api_url,
                stack.edge_pid,
                args.participants,
                args.publishers,
                args.seconds,
                workers=args.workers,
                step=args.step,
                cpu_limit=args.cpu_limit,
                max_wall_s=args.max_wall,
            )
            if report.problems or report.receivers_without_media:
                # The stack's temporary directory goes with it: keep the edge's view of what went wrong.
                report.edge_log_tail = stack.edge_log.read_text(errors="replace")[-4000:]
    except ApiStartError as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(asdict(report), indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    ok = report.participants_joined >= 2 and report.forwarded_pps > 0
    print(
        f"{'DONE' if ok else 'FAIL'}: {report.participants_joined} joined; stopped: {report.stopped_because}",
        file=sys.stderr,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
