"""A relay mesh as real processes (the API and one ``python -m edge`` per region, each registered with the API)
and the scenario the failover test and ``just bench`` share: a meeting placed across two edges by measured
round-trip times, the trunk's copies per stream counted from the edges' ``/healthz``, then one edge killed and
its participants rejoining through the API (``refreshJoinToken`` with their measurements, as ``web/sdk/room.js``
does) onto the other edge.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiortc import RTCSessionDescription
from websockets.asyncio.client import ClientConnection, connect

from edge.synthetic import EncodedClip, SyntheticParticipant, encode_vp8_clip
from protocol.signalling import Answer, Join, Joined, Leave, Offer, encode, parse_edge_message
from testkit.media_load import gql
from testkit.media_stack import _edge_env, _wait_edge
from testkit.server import REPO_ROOT, STOP_TIMEOUT_S, free_port, log_tail, running_api

SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }"
CREATE = "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id number } }"
JOIN = """mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) {
  status guestToken meetingId participant { id } joinToken { token edgeUrl } } }"""
REFRESH = """mutation($m: ID!, $r: [EdgeRttInput!]) { refreshJoinToken(meetingId: $m, edgeRtts: $r) {
  token edgeUrl } }"""
EDGES = "{ mediaEdges { id } }"
TIMEOUT_S = 30.0


class MeshRunError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class EdgeHost:
    """Where an edge process runs: its address (signalling, ICE and relay all bind there) and what its command
    is run under (e.g. ``ip netns exec <region>``: an edge in a network namespace of its own)."""

    ip: str = "127.0.0.1"
    command_prefix: tuple[str, ...] = ()


@dataclass(eq=False)
class MeshEdge:
    edge_id: str
    region: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    ip: str = "127.0.0.1"

    @property
    def signal_url(self) -> str:
        return f"ws://{self.ip}:{self.port}/edge/signal"

    @property
    def http_url(self) -> str:
        return f"http://{self.ip}:{self.port}"


@dataclass(frozen=True, slots=True)
class Mesh:
    api_url: str
    edges: list[MeshEdge]

    def edge(self, edge_id: str) -> MeshEdge:
        return next(e for e in self.edges if e.edge_id == edge_id)


@contextmanager
def running_mesh(
    regions: Sequence[tuple[str, str]],
    prefix: str = "meetmesh-mesh-",
    *,
    api_host: str = "127.0.0.1",
    hosts: Mapping[str, EdgeHost] | None = None,
) -> Iterator[Mesh]:
    """The API (listening on ``api_host``) and one edge process per (edge id, region), each registered; every
    process is stopped on exit. ``hosts`` places edges elsewhere than this namespace's loopback (by edge id)."""
    secret = secrets.token_urlsafe(32)
    api_env = {"API_EDGE_SECRET": secret}
    with running_api(prefix, extra_env=api_env, host=api_host) as api, tempfile.TemporaryDirectory() as tmp:
        edges: list[MeshEdge] = []
        try:
            for edge_id, region in regions:
                host = (hosts or {}).get(edge_id, EdgeHost())
                # A port free here is only likely free in another namespace: each namespace has its own ports, and
                # a fresh one has none taken.
                port = free_port()
                env = _edge_env(port, api.url, secret)
                env.update(
                    EDGE_HOST=host.ip,
                    EDGE_ICE_ADDRESSES=host.ip,
                    EDGE_PUBLIC_URL=f"ws://{host.ip}:{port}/edge/signal",
                    EDGE_ID=edge_id,
                    EDGE_REGION=region,
                    EDGE_RELAY_HOST=host.ip,
                )
                log_path = Path(tmp) / f"edge-{edge_id}.log"
                with log_path.open("wb") as log:
                    proc = subprocess.Popen(
                        [*host.command_prefix, sys.executable, "-m", "edge"],
                        cwd=REPO_ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                edges.append(MeshEdge(edge_id, region, port, proc, log_path, host.ip))
            for edge in edges:
                _wait_edge(edge.proc, edge.http_url, edge.log_path)
            _wait_registered(api.url, [e.edge_id for e in edges])
            yield Mesh(api.url, edges)
        except BaseException:
            for edge in edges:
                print(f"--- edge {edge.edge_id} log (tail) ---\n{log_tail(edge.log_path)}", file=sys.stderr)
            raise
        finally:
            for edge in edges:
                if edge.proc.poll() is None:
                    edge.proc.terminate()
                    try:
                        edge.proc.wait(STOP_TIMEOUT_S)
                    except subprocess.TimeoutExpired:
                        edge.proc.kill()
                        edge.proc.wait(STOP_TIMEOUT_S)


def _wait_registered(api_url: str, edge_ids: list[str]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    with httpx.Client(timeout=5.0, trust_env=False) as http:
        while time.monotonic() < deadline:
            data = http.post(api_url + "/graphql", json={"query": EDGES}).json().get("data") or {}
            if {e["id"] for e in data.get("mediaEdges", [])} >= set(edge_ids):
                return
            time.sleep(0.1)
    raise MeshRunError(f"edges {edge_ids} did not register with the API within {TIMEOUT_S:g} s")


def near(edge_id: str, edges: Sequence[str]) -> list[dict[str, Any]]:
    """Measurements placing a client on ``edge_id`` (5 ms) rather than the others (290 ms, another continent):
    far enough that a busier near edge (placement weighs CPU load at 0.6, and a loaded test machine makes edges'
    CPU differ) still wins, as it would for a real client."""
    return [{"edgeId": e, "rttMs": 5 if e == edge_id else 290} for e in edges]


@dataclass(eq=False)
class MeshParticipant:
    """A synthetic participant that joins through the API with measured RTTs and rejoins after its edge died."""

    name: str
    rtts: list[dict[str, Any]]
    clip: EncodedClip = field(default_factory=lambda: encode_vp8_clip(frames=30, fps=15, gop=15))
    peer: SyntheticParticipant = field(default_factory=SyntheticParticipant)
    token: str = ""
    """The guest's (or host's) API token."""
    meeting_id: str = ""
    participant_id: str = ""
    edge_url: str = ""
    joined_at: float = 0.0
    first_frame_ms: float | None = None
    lost: asyncio.Event = field(default_factory=asyncio.Event)
    """The edge connection dropped (not a leave of ours)."""
    _ws: ClientConnection | None = None
    _reader: asyncio.Task[None] | None = None
    _leaving: bool = False

    async def join(self, http: httpx.AsyncClient, number: str, host_token: str | None = None) -> None:
        self.joined_at = time.monotonic()
        i: dict[str, Any] = {"number": number, "displayName": self.name, "edgeRtts": self.rtts}
        data = (await gql(http, JOIN, {"i": i}, host_token))["joinMeeting"]
        if data["status"] != "ADMITTED":
            raise MeshRunError(f"{self.name} not admitted: {data['status']}")
        self.token = host_token or data["guestToken"]
        self.meeting_id, self.participant_id = data["meetingId"], data["participant"]["id"]
        await self._connect(data["joinToken"]["edgeUrl"], data["joinToken"]["token"])

    async def rejoin(self, http: httpx.AsyncClient) -> None:
        """What the SDK does when its edge connection is lost: a fresh token (and edge) from the API."""
        data = (await gql(http, REFRESH, {"m": self.meeting_id, "r": self.rtts}, self.token))["refreshJoinToken"]
        await self.peer.close()
        self.peer = SyntheticParticipant()
        self.lost = asyncio.Event()
        await self._connect(data["edgeUrl"], data["token"])

    async def _connect(self, edge_url: str, token: str) -> None:
        self.edge_url = edge_url
        self._ws = await connect(edge_url, proxy=None, open_timeout=TIMEOUT_S)
        await self._ws.send(encode(Join(token=token)))
        reply = parse_edge_message(await asyncio.wait_for(self._ws.recv(), TIMEOUT_S))
        if not isinstance(reply, Joined):
            raise MeshRunError(f"{self.name}: edge answered {reply} to join")
        self.peer.publish(self.clip)
        pc = self.peer.pc
        await pc.setLocalDescription(await pc.createOffer())
        await self._ws.send(encode(Offer(sdp=pc.localDescription.sdp)))
        self._reader = asyncio.create_task(self._read(self._ws, self.lost))

    async def _read(self, ws: ClientConnection, lost: asyncio.Event) -> None:
        pc = self.peer.pc
        try:
            async for text in ws:
                msg = parse_edge_message(text)
                if isinstance(msg, Answer):
                    await pc.setRemoteDescription(RTCSessionDescription(sdp=msg.sdp, type="answer"))
                elif isinstance(msg, Offer):
                    await pc.setRemoteDescription(RTCSessionDescription(sdp=msg.sdp, type="offer"))
                    await pc.setLocalDescription(await pc.createAnswer())
                    await ws.send(encode(Answer(sdp=pc.localDescription.sdp)))
        except Exception:  # the task boundary of this participant's signalling: a dead edge ends it
            pass
        if not self._leaving:
            lost.set()

    def videos(self) -> dict[str, int]:
        return dict(self.peer.frames_by_track)

    async def close(self) -> None:
        self._leaving = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.send(encode(Leave()))
                await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self.peer.close()


async def _until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise MeshRunError(f"{what} not within {timeout:g} s")
        await asyncio.sleep(0.01)


async def _relay_stats(http: httpx.AsyncClient, edge: MeshEdge) -> dict[str, Any]:
    stats: dict[str, Any] = (await http.get(edge.http_url + "/healthz")).json()["relay"]
    return stats


@dataclass
class FailoverReport:
    cross_edge_join_to_first_frame_ms: float
    trunk_copies_per_stream: float
    """Copies the origin sent to the remote edge per packet of the stream, with two subscribers behind it."""
    trunk_packets: int
    remote_received: int
    failover_media_restored_ms: float
    rejoined_to: list[str]
    links_after: list[str]
    """The surviving edge's relay links once the dead one was dropped."""


async def failover_run(mesh: Mesh, window_s: float = 2.0) -> FailoverReport:
    """The host on edge ``a``, two guests on edge ``b``; measure, kill ``b``, measure the guests' return."""
    a, b = mesh.edges[0], mesh.edges[1]
    ids = [e.edge_id for e in mesh.edges]
    async with httpx.AsyncClient(base_url=mesh.api_url, timeout=TIMEOUT_S, trust_env=False) as http:
        email = f"mesh-{secrets.token_hex(6)}@example.test"
        sign_up = {"i": {"email": email, "password": "correct horse", "displayName": "Host"}}
        host_token = (await gql(http, SIGN_UP, sign_up))["signUp"]["accessToken"]
        settings = {"guestWaitingRoom": False, "maxParticipants": 10, "allowGuests": True, "joinBeforeHost": True}
        created = await gql(http, CREATE, {"i": {"title": "mesh", "passcode": "", "settings": settings}}, host_token)
        number = created["createMeeting"]["number"]
        host = MeshParticipant("Host", near(a.edge_id, ids))
        guests = [MeshParticipant(f"Guest {n}", near(b.edge_id, ids)) for n in (1, 2)]
        people = [host, *guests]
        try:
            await host.join(http, number, host_token)
            await asyncio.sleep(0.5)  # the host's camera is flowing at edge a before the first guest joins
            await guests[0].join(http, number)
            if guests[0].edge_url != b.signal_url or host.edge_url != a.signal_url:
                raise MeshRunError(f"placement ignored the measurements: {host.edge_url}, {guests[0].edge_url}")
            await _until(lambda: guests[0].videos(), TIMEOUT_S, "the first guest's first frame from edge a")
            cross_ms = (time.monotonic() - guests[0].joined_at) * 1000
            await guests[1].join(http, number)
            await _until(
                lambda: all(len(p.videos()) == 2 and min(p.videos().values()) >= 5 for p in people),
                TIMEOUT_S,
                "everyone decoding both others",
            )

            # The host's camera on the trunk a -> b, two subscribers behind b.
            stats = await _relay_stats(http, a)
            (cam,) = [t for t, s in stats["local"].items() if s["kind"] == "video" and "~" + host.participant_id in t]
            remote0 = (await _relay_stats(http, b))["remote"][cam]["received"]
            await asyncio.sleep(window_s)
            after = (await _relay_stats(http, a))["local"][cam]
            remote1 = (await _relay_stats(http, b))["remote"][cam]["received"]
            relayed = after["relayed"] - stats["local"][cam]["relayed"]
            sent = after["sent"].get(b.edge_id, 0) - stats["local"][cam]["sent"].get(b.edge_id, 0)
            copies = sum(after["sent"].values()) - sum(stats["local"][cam]["sent"].values())
            if relayed <= 0:
                raise MeshRunError("the host's camera was not relayed")

            # Edge b dies; its guests rejoin through the API, which places them on a.
            before = set(host.videos())
            killed = time.monotonic()
            b.proc.send_signal(signal.SIGKILL)
            await _until(lambda: all(g.lost.is_set() for g in guests), TIMEOUT_S, "the guests noticing")
            await asyncio.gather(*(g.rejoin(http) for g in guests))
            await _until(
                lambda: all(g.videos() for g in guests) and len(set(host.videos()) - before) >= len(guests),
                TIMEOUT_S,
                "media back after the failover",
            )
            restored_ms = (time.monotonic() - killed) * 1000
            # The surviving edge closes its link to the dead one (the API's next MeetingEdges no longer lists it).
            links: list[str] = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                links = (await _relay_stats(http, a))["links"]
                if b.edge_id not in links:
                    break
                await asyncio.sleep(0.2)
            return FailoverReport(
                cross_edge_join_to_first_frame_ms=round(cross_ms, 1),
                trunk_copies_per_stream=round(copies / relayed, 3),
                trunk_packets=sent,
                remote_received=remote1 - remote0,
                failover_media_restored_ms=round(restored_ms, 1),
                rejoined_to=[g.edge_url for g in guests],
                links_after=links,
            )
        finally:
            for person in people:
                await person.close()
