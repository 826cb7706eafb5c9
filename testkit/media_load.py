"""N synthetic participants in one meeting through the real API and media edge, each publishing pre-encoded VP8
(optionally Opus too) and decoding everyone else: the core of ``python -m loadtests.media_load`` (its command
line) and of the media benchmark (``bench.media``).

Each participant joins with GraphQL ``joinMeeting`` (the host first, then guests), opens the edge's signalling
socket with the join token, publishes with an offer and answers the edge's offers. :func:`run_load` reports join
times (GraphQL answer, edge ``joined``, first decoded remote video frame), decoded frames per remote track, RTP
packets received and lost, the edge's CPU share (given the edge's pid), and problems. Bounded: at most
:data:`MAX_PARTICIPANTS` for at most :data:`MAX_SECONDS`.

Talks to the servers only over HTTP, GraphQL and the signalling protocol (``protocol.signalling``); the media
client is ``edge.synthetic``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiortc import RTCSessionDescription
from websockets.asyncio.client import ClientConnection, connect

from edge.ice import use_host_addresses
from edge.synthetic import EncodedClip, SyntheticParticipant, encode_opus_clip, encode_vp8_clip
from protocol.signalling import Answer, Join, Joined, Leave, Offer, encode, parse_edge_message

MAX_PARTICIPANTS = 16
MAX_SECONDS = 120
JOIN_TIMEOUT_S = 20.0
"""From joinMeeting to every expected remote video decoding, per participant."""
FIRST_FRAME_POLL_S = 0.002

SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }"
CREATE = "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id number } }"
JOIN = """mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) {
  status participant { id } joinToken { token edgeUrl } } }"""


class MediaLoadError(RuntimeError):
    """The API or the edge refused something the load test needs; the message says what."""


async def gql(http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    res = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    body = res.json() if res.headers.get("content-type", "").startswith("application/json") else {}
    if res.status_code != 200 or body.get("errors") or not body.get("data"):
        raise MediaLoadError(f"GraphQL HTTP {res.status_code}: {str(body.get('errors') or res.text)[:300]}")
    return body["data"]


@dataclass(frozen=True, slots=True)
class Meeting:
    number: str
    host_token: str


async def create_meeting(http: httpx.AsyncClient, max_participants: int) -> Meeting:
    email = f"media-load-{secrets.token_hex(6)}@loadtest.test"
    signed = await gql(http, SIGN_UP, {"i": {"email": email, "password": "media load pw", "displayName": "Host"}})
    token = signed["signUp"]["accessToken"]
    # Guests are admitted at once (no waiting room, no waiting for the host): joins measure media, not policy.
    settings = {
        "maxParticipants": max(2, max_participants),
        "allowGuests": True,
        "joinBeforeHost": True,
        "guestWaitingRoom": False,
    }
    created = await gql(http, CREATE, {"i": {"title": "media load", "passcode": "", "settings": settings}}, token)
    return Meeting(number=created["createMeeting"]["number"], host_token=token)


@dataclass(eq=False)
class MediaParticipant:
    """One synthetic participant: GraphQL join, signalling socket, aiortc peer."""

    name: str
    peer: SyntheticParticipant = field(default_factory=SyntheticParticipant)
    started: float = 0.0
    api_ms: float | None = None
    edge_joined_ms: float | None = None
    first_frame_ms: float | None = None
    errors: list[str] = field(default_factory=list)
    _ws: ClientConnection | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def join(self, http: httpx.AsyncClient, meeting: Meeting, clips: list[EncodedClip], host: bool) -> None:
        """Join through the API and the edge and start publishing; returns once the edge said ``joined``."""
        self.started = time.monotonic()
        variables = {"i": {"number": meeting.number, "displayName": self.name}}
        data = (await gql(http, JOIN, variables, meeting.host_token if host else None))["joinMeeting"]
        if data["status"] != "ADMITTED" or not data["joinToken"]:
            raise MediaLoadError(f"{self.name} not admitted: {data['status']}")
        self.api_ms = self._since_start()
        self._tasks.append(asyncio.create_task(self._watch_first_frame()))
        # proxy=None: all traffic is loopback, never through a proxy from the environment.
        self._ws = await connect(data["joinToken"]["edgeUrl"], proxy=None, open_timeout=JOIN_TIMEOUT_S)
        await self._ws.send(encode(Join(token=data["joinToken"]["token"])))
        reply = parse_edge_message(await asyncio.wait_for(self._ws.recv(), JOIN_TIMEOUT_S))
        if not isinstance(reply, Joined):
            raise MediaLoadError(f"{self.name}: edge answered {reply} to join")
        self.edge_joined_ms = self._since_start()
        for clip in clips:
            self.peer.publish(clip)
        pc = self.peer.pc
        await pc.setLocalDescription(await pc.createOffer())
        await self._ws.send(encode(Offer(sdp=pc.localDescription.sdp)))
        self._tasks.append(asyncio.create_task(self._read()))

    def _since_start(self) -> float:
        return (time.monotonic() - self.started) * 1000

    async def _watch_first_frame(self) -> None:
        # Polled: SyntheticParticipant only counts frames (no event to wait on); 2 ms is far below what is measured.
        while self.peer.frames_received["video"] == 0:  # noqa: ASYNC110
            await asyncio.sleep(FIRST_FRAME_POLL_S)
        self.first_frame_ms = self._since_start()

    async def _read(self) -> None:
        assert self._ws is not None
        pc = self.peer.pc
        try:
            async for text in self._ws:
                msg = parse_edge_message(text)
                if isinstance(msg, Answer):
                    await pc.setRemoteDescription(RTCSessionDescription(sdp=msg.sdp, type="answer"))
                elif isinstance(msg, Offer):
                    await pc.setRemoteDescription(RTCSessionDescription(sdp=msg.sdp, type="offer"))
                    await pc.setLocalDescription(await pc.createAnswer())
                    await self._ws.send(encode(Answer(sdp=pc.localDescription.sdp)))
                else:
                    self.errors.append(f"edge said {msg}")
        except Exception as exc:  # the task boundary of this participant's signalling
            self.errors.append(f"signalling: {type(exc).__name__}: {exc}")

    async def wait_first_frame(self, timeout: float = JOIN_TIMEOUT_S) -> float:
        deadline = self.started + timeout
        while self.first_frame_ms is None:
            if time.monotonic() > deadline:
                raise MediaLoadError(f"{self.name}: no remote video frame within {timeout:g} s of joining")
            await asyncio.sleep(FIRST_FRAME_POLL_S)
        return self.first_frame_ms

    async def rtp_stats(self) -> tuple[int, int]:
        """(packets received, packets lost) over every receiving track, from aiortc's inbound-rtp stats."""
        received = lost = 0
        for transceiver in self.peer.pc.getTransceivers():
            if transceiver.currentDirection not in ("recvonly", "sendrecv"):
                continue
            for stat in (await transceiver.receiver.getStats()).values():
                if getattr(stat, "type", "") == "inbound-rtp":
                    received += int(stat.packetsReceived)
                    lost += max(0, int(stat.packetsLost))
        return received, lost

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.send(encode(Leave()))
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        await self.peer.close()


def first_frame_clip(fps: int = 30, keyframe_every: int = 3) -> EncodedClip:
    """The clip for join timing: a pre-encoded clip cannot answer the edge's keyframe request (PLI) the way a
    live encoder does, so key frames come often (every 100 ms here) to stand in for that."""
    return encode_vp8_clip(frames=30, fps=fps, gop=keyframe_every)


async def measure_joins(api_url: str, joins: int) -> list[float]:
    """Join → first decoded remote frame (ms), ``joins`` times: a host publishes; each newcomer joins (GraphQL
    request sent → first frame of the host's video decoded), also publishing, then leaves."""
    use_host_addresses(["127.0.0.1"])
    clip = first_frame_clip()
    async with httpx.AsyncClient(base_url=api_url, timeout=JOIN_TIMEOUT_S, trust_env=False) as http:
        meeting = await create_meeting(http, joins + 2)
        host = MediaParticipant("host")
        results: list[float] = []
        try:
            await host.join(http, meeting, [clip], host=True)
            for n in range(joins):
                guest = MediaParticipant(f"guest {n}")
                try:
                    await guest.join(http, meeting, [clip], host=False)
                    results.append(await guest.wait_first_frame())
                    if guest.errors:
                        raise MediaLoadError(f"{guest.name}: {guest.errors}")
                finally:
                    await guest.close()
        finally:
            await host.close()
        return results


def _proc_cpu_s(pid: int) -> float | None:
    """utime + stime of a process from /proc (Linux), or None where that is not readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class ParticipantReport:
    name: str
    api_join_ms: float | None
    edge_joined_ms: float | None
    first_frame_ms: float | None
    remote_video_tracks: int
    frames_by_track: dict[str, int]
    video_frames: int
    audio_frames: int
    rtp_received: int
    rtp_lost: int
    errors: list[str]


@dataclass(slots=True)
class LoadReport:
    participants: int
    seconds: float
    audio: bool
    fps: int
    join_ms_p50: float | None = None
    first_frame_ms_p50: float | None = None
    first_frame_ms_max: float | None = None
    video_fps_per_track_p50: float | None = None
    rtp_received: int = 0
    rtp_lost: int = 0
    loss_fraction: float = 0.0
    edge_cpu_percent: float | None = None
    """The edge process's CPU (user + sys) over the steady window, in % of one core (when this run started it)."""
    streams: int = 0
    """Forwarded streams: every participant's every published track to every other participant."""
    window_rtp_pps_per_stream: float = 0.0
    """RTP packets/s the participants received per stream during the steady window."""
    edge_cpu_percent_per_stream: float | None = None
    cpu_count: int = field(default_factory=lambda: os.cpu_count() or 0)
    people: list[ParticipantReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def run_load(
    api_url: str,
    participants: int,
    seconds: float,
    *,
    audio: bool = False,
    fps: int = 15,
    gop: int = 15,
    edge_pid: int | None = None,
) -> LoadReport:
    """Everyone joins (concurrently), media flows for ``seconds``, then everyone leaves; the report says what
    each participant received."""
    if not 2 <= participants <= MAX_PARTICIPANTS or not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"participants must be 2..{MAX_PARTICIPANTS} and seconds 0..{MAX_SECONDS}")
    use_host_addresses(["127.0.0.1"])
    clips = [encode_vp8_clip(frames=30, fps=fps, gop=gop)] + ([encode_opus_clip()] if audio else [])
    report = LoadReport(participants=participants, seconds=seconds, audio=audio, fps=fps)
    rates: list[float] = []
    people = [MediaParticipant("host")] + [MediaParticipant(f"guest {n}") for n in range(1, participants)]
    async with httpx.AsyncClient(base_url=api_url, timeout=JOIN_TIMEOUT_S, trust_env=False) as http:
        meeting = await create_meeting(http, participants)
        try:
            joins = await asyncio.gather(
                *(p.join(http, meeting, clips, host=(i == 0)) for i, p in enumerate(people)), return_exceptions=True
            )
            for person, outcome in zip(people, joins, strict=True):
                if isinstance(outcome, BaseException):
                    person.errors.append(f"join: {type(outcome).__name__}: {outcome}")
            expected = participants - 1
            deadline = time.monotonic() + JOIN_TIMEOUT_S
            while time.monotonic() < deadline and not all(  # noqa: ASYNC110 - polled counters, as above
                len(p.peer.frames_by_track) >= expected * len(clips) for p in people if not p.errors
            ):
                await asyncio.sleep(0.05)
            # The steady window: every track is flowing (or has failed to); count from here.
            before = [dict(p.peer.frames_by_track) for p in people]
            rtp0 = sum([(await p.rtp_stats())[0] for p in people])
            cpu0, wall0 = (_proc_cpu_s(edge_pid) if edge_pid else None), time.monotonic()
            await asyncio.sleep(seconds)
            cpu1, wall = (_proc_cpu_s(edge_pid) if edge_pid else None), time.monotonic() - wall0
            rtp1 = sum([(await p.rtp_stats())[0] for p in people])
            report.streams = participants * (participants - 1) * len(clips)
            report.window_rtp_pps_per_stream = round((rtp1 - rtp0) / wall / report.streams, 1)
            if cpu0 is not None and cpu1 is not None:
                report.edge_cpu_percent = round(100 * (cpu1 - cpu0) / wall, 1)
                report.edge_cpu_percent_per_stream = round(100 * (cpu1 - cpu0) / wall / report.streams, 3)
            for person, start in zip(people, before, strict=True):
                frames = dict(person.peer.frames_by_track)
                kinds = _track_kinds(person)
                video = {t: n for t, n in frames.items() if kinds.get(t) == "video"}
                rates.extend((n - start.get(t, 0)) / wall for t, n in video.items())
                received, lost = await person.rtp_stats()
                report.people.append(
                    ParticipantReport(
                        name=person.name,
                        api_join_ms=_round(person.api_ms),
                        edge_joined_ms=_round(person.edge_joined_ms),
                        first_frame_ms=_round(person.first_frame_ms),
                        remote_video_tracks=len(video),
                        frames_by_track=frames,
                        video_frames=person.peer.frames_received["video"],
                        audio_frames=person.peer.frames_received["audio"],
                        rtp_received=received,
                        rtp_lost=lost,
                        errors=list(person.errors),
                    )
                )
                if person.errors:
                    report.problems.append(f"{person.name}: {'; '.join(person.errors)[:300]}")
                elif len(video) < expected:
                    report.problems.append(f"{person.name} decoded {len(video)} remote videos, expected {expected}")
                heard = sum(1 for t in frames if kinds.get(t) == "audio")
                if audio and not person.errors and heard < expected:
                    report.problems.append(f"{person.name} decoded {heard} remote audio tracks, expected {expected}")
        finally:
            await asyncio.gather(*(p.close() for p in people), return_exceptions=True)
    _summarise(report, rates)
    return report


def _track_kinds(person: MediaParticipant) -> dict[str, str]:
    """Remote track id → kind (``frames_by_track`` is keyed by the receiver's track id)."""
    tracks = [t.receiver.track for t in person.peer.pc.getTransceivers()]
    return {track.id: track.kind for track in tracks if track is not None}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _summarise(report: LoadReport, rates: list[float]) -> None:
    joins = [p.api_join_ms for p in report.people if p.api_join_ms is not None]
    firsts = [p.first_frame_ms for p in report.people if p.first_frame_ms is not None]
    report.join_ms_p50 = _round(statistics.median(joins)) if joins else None
    report.first_frame_ms_p50 = _round(statistics.median(firsts)) if firsts else None
    report.first_frame_ms_max = _round(max(firsts)) if firsts else None
    report.video_fps_per_track_p50 = _round(statistics.median(rates)) if rates else None
    report.rtp_received = sum(p.rtp_received for p in report.people)
    report.rtp_lost = sum(p.rtp_lost for p in report.people)
    total = report.rtp_received + report.rtp_lost
    report.loss_fraction = round(report.rtp_lost / total, 4) if total else 0.0
    if report.rtp_received == 0:
        report.problems.append("no RTP packet was received")
