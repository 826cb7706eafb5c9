"""Media forwarding: packets/s per core of the edge's forwarding path against a raw-socket UDP fan-out (the
Python ceiling for moving the same packets) and aiortc's MediaRelay (decode and re-encode); loss against what
was offered; latency the edge adds; join to first frame.

Three processes per phase, so each one's CPU is its own: the forwarder under test (``bench.media_forwarders``),
the load generator (the publishers: real aiortc peers whose packets for a window are built and SRTP-protected
before it starts, then only paced out with ``sendto``; its CPU is reported as ``media_loadgen_cpu_cores``), and
this process (the subscribers: real aiortc peers counting RTP datagrams in the socket callback). "Per core" is
*packets the forwarder sent ÷ CPU seconds it used* (user+sys of every thread of its process); loss is
``1 - received / (offered x fan-out)``, where *offered* is what the generator handed to the kernel, so packets
the forwarder never read or never sent count as lost. The raw UDP fan-out gets the same offered rate and its loss
is reported the same way. Topologies: 1 publisher → N subscribers, and an NxN meeting (everyone publishes one
video and receives every other one, over one connection per subscriber). ``ROUNDS`` interleaved rounds (SFU 1→N,
SFU NxN, UDP 1→N, UDP NxN each round): medians, and ``_spread`` = [min, max] over the rounds; the SFU/UDP
ratio is taken within each round. Latency is one way, publisher send → subscriber receive (CLOCK_MONOTONIC, one
machine), through the edge minus the same path direct, at a moderate rate.

The SFU child hosts edge-side peer connections wired with the edge's public forwarding functions
(``edge.rtp_hooks``), so it measures the forwarding path alone. The real ``python -m edge`` process (with the
API, signalling, rooms) is measured too: join → first decoded remote frame, and its CPU per stream in a small
meeting of ``edge.synthetic`` participants (``testkit.media_load``).
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiortc import RTCSessionDescription

from bench.loadgen import BenchFailed
from bench.media_forwarders import ForwarderFailed, ForwarderProcess, bound_udp_socket
from bench.media_peers import PACKET_SIZE, CountingSubscriber, percentile
from edge.ice import use_host_addresses
from edge.synthetic import SyntheticParticipant, encode_vp8_clip
from testkit.media_load import LoadReport, measure_joins, run_load
from testkit.media_stack import running_stack

ROUNDS = 3


@dataclass(frozen=True, slots=True)
class MediaSpec:
    fanout_subscribers: int = 10
    """N in 1 → N."""
    meeting_size: int = 5
    """N in the N×N meeting."""
    fanout_rate_pps: int = 6_000
    """What the single publisher offers in 1 → N (× N out)."""
    meeting_rate_pps: int = 3_000
    """What each meeting publisher offers (× N-1 out, × N publishers)."""
    latency_rate_pps: int = 100
    """The moderate rate (per publisher) at which latency is measured: far from saturation."""
    latency_s: float = 3.0
    warmup_s: float = 0.5
    """At the window's rate before each window (forwarder caches, socket buffers), not counted."""
    throughput_s: float = 4.0
    rounds: int = ROUNDS
    pin_cpus: bool = False
    """Pin the forwarder to the last CPU and the load (generator, subscribers) to the others."""
    relay_subscribers: int = 10
    relay_s: float = 6.0
    relay_warmup_s: float = 2.0
    joins: int = 5
    """How many times join → first frame is measured through the real API and edge."""
    real_meeting_size: int = 5
    """Synthetic participants in a meeting on the real edge process, to measure its CPU per stream (0: skip)."""
    real_meeting_s: float = 5.0
    max_packets: int = 200_000
    """Per publisher per phase: a hard bound whatever the rates and durations."""

    @property
    def label(self) -> str:
        return (
            f"1->{self.fanout_subscribers} at {self.fanout_rate_pps} pps in, {self.meeting_size}x{self.meeting_size}"
            f" at {self.meeting_rate_pps} pps per publisher, {self.throughput_s:g} s each after {self.warmup_s:g} s"
            f" warm-up, {self.rounds} interleaved rounds"
        )

    def window_packets(self, rate: int) -> int:
        return min(self.max_packets, int(rate * self.throughput_s))


SPEC = MediaSpec()
REFERENCE_STREAM_PPS = 150
"""Packets/s of one typical forwarded video stream (about 1.3 Mbit/s of 1,100-byte packets: 720p camera video),
for expressing edge CPU per stream."""
DRAIN_S = 0.3
"""After the last packet is sent, before the closing mark: packets still queued reach the subscribers (then on
until all have arrived or none has for ``QUIET_S``, at most ``SETTLE_MAX_S``)."""
SETTLE_MAX_S = 5.0
QUIET_S = 1.0


@dataclass(frozen=True, slots=True)
class Window:
    """One measurement window."""

    offered: int
    """Packets the generator handed to the kernel (all publishers)."""
    expected: int
    """What the subscribers would get with no loss: each publisher's offered packets × its subscribers."""
    forwarded: int
    """Packets the forwarder sent on (its own count)."""
    read: int
    """Packets the forwarder read (all publishers; -1: not counted): ``offered - read`` were lost on the way in."""
    received: int
    """Packets the subscribers got."""
    cpu_s: float
    """The forwarder process's CPU time."""
    wall_s: float
    loadgen_cpu_s: float
    loadgen_wall_s: float
    receivers_cpu_s: float
    """This process's CPU time (the subscribers) over the window."""

    @property
    def pps_per_core(self) -> float:
        return self.forwarded / self.cpu_s if self.cpu_s > 0 else 0.0

    @property
    def loss(self) -> float:
        """Against what was offered (not what the forwarder says it sent)."""
        return max(0.0, 1 - self.received / self.expected) if self.expected else 0.0

    @property
    def loadgen_cores(self) -> float:
        return self.loadgen_cpu_s / self.loadgen_wall_s if self.loadgen_wall_s > 0 else 0.0

    @property
    def receivers_cores(self) -> float:
        return self.receivers_cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    def describe(self, label: str) -> str:
        return (
            f"  {label}: {self.offered} offered ({self.expected} due out), {self.read} read and {self.forwarded}"
            " forwarded by the forwarder,"
            f" {self.received} received ({self.loss:.2%} lost vs offered) in {self.wall_s:.1f} s; forwarder CPU"
            f" {self.cpu_s:.2f} s ({self.cpu_s / self.wall_s:.0%} of a core) → {self.pps_per_core:,.0f} pkt/s per"
            f" core; generator {self.loadgen_cores:.2f} cores, subscribers {self.receivers_cores:.2f} cores"
        )


def _cpus(spec: MediaSpec) -> tuple[set[int] | None, set[int] | None]:
    """(forwarder CPUs, load CPUs) when pinning, else (None, None)."""
    count = os.cpu_count() or 1
    if not spec.pin_cpus or count < 2:
        return None, None
    return {count - 1}, set(range(count - 1))


async def _windowed(
    spec: MediaSpec,
    proc: ForwarderProcess,
    gen: ForwarderProcess,
    rate: int,
    fanouts: list[int],
    received: Callable[[], int],
    prepare: Callable[[int], Awaitable[None]],
) -> Window:
    """Warm up at the window's rate through the same prepared path (not counted), then measure one window."""
    await prepare(min(spec.max_packets, int(rate * spec.warmup_s)))
    await gen.call("run", rate, spec.warmup_s, timeout=spec.warmup_s + 30)
    await asyncio.sleep(DRAIN_S)
    await prepare(spec.window_packets(rate))
    return await _measure(spec, proc, gen, rate, fanouts, received)


async def _measure(
    spec: MediaSpec,
    proc: ForwarderProcess,
    gen: ForwarderProcess,
    rate: int,
    fanouts: list[int],
    received: Callable[[], int],
) -> Window:
    received0 = received()
    cpu0, fwd0, read0 = await proc.call("mark")
    own0, start = time.process_time(), time.monotonic()
    offered, gen_cpu, gen_wall = await gen.call("run", rate, spec.throughput_s, timeout=spec.throughput_s + 30)
    expected = sum(o * f for o, f in zip(offered, fanouts, strict=True))
    await asyncio.sleep(DRAIN_S)
    await _settle(lambda: received() - received0, expected)
    cpu1, fwd1, read1 = await proc.call("mark")
    own1, wall = time.process_time(), time.monotonic() - start
    if not expected:
        raise BenchFailed("the generator offered no packet")
    return Window(
        sum(offered),
        expected,
        fwd1 - fwd0,
        read1 - read0,
        received() - received0,
        cpu1 - cpu0,
        wall,
        gen_cpu,
        gen_wall,
        own1 - own0,
    )


async def _settle(received: Callable[[], int], expected: int) -> None:
    """Wait until every packet due has arrived, or none has for ``QUIET_S``: what is still queued in a socket
    buffer (a forwarder that lost the CPU for a moment on a shared machine) is late, not lost."""
    deadline = time.monotonic() + SETTLE_MAX_S
    last, quiet_since = received(), time.monotonic()
    while time.monotonic() < deadline and last < expected:
        await asyncio.sleep(0.05)
        now = received()
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= QUIET_S:
            return


def _fanouts(publishers: int, routes: list[list[int]]) -> list[int]:
    return [sum(1 for sources in routes if p in sources) for p in range(publishers)]


# -- SFU and MediaRelay: aiortc peers -----------------------------------------------------------------------


@dataclass(eq=False)
class PeerTopology:
    proc: ForwarderProcess
    gen: ForwarderProcess
    subscribers: list[CountingSubscriber]

    def received(self) -> int:
        return sum(s.sink.packets for s in self.subscribers)

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self.subscribers), return_exceptions=True)


async def _connect_sfu(
    proc: ForwarderProcess, gen: ForwarderProcess, publishers: int, routes: list[list[int]]
) -> PeerTopology:
    """``routes[k]``: which publishers subscriber ``k`` receives (one connection per subscriber)."""
    topo = PeerTopology(proc, gen, [CountingSubscriber() for _ in routes])
    for index in range(publishers):
        await gen.call("accept", index, await proc.call("publish", await gen.call("offer")))
    for index, (subscriber, sources) in enumerate(zip(topo.subscribers, routes, strict=True)):
        offer = await proc.call("subscribe", sources)
        await proc.call("accept", index, await subscriber.answer(offer))
    await gen.call("ready")
    await proc.call("start")
    return topo


async def _sfu_phase(
    spec: MediaSpec, publishers: int, routes: list[list[int]], rate: int, label: str, *, latency: bool
) -> tuple[Window, list[float]]:
    forwarder_cpus, load_cpus = _cpus(spec)
    proc = ForwarderProcess("sfu", forwarder_cpus)
    gen = ForwarderProcess("loadgen", load_cpus)
    topo: PeerTopology | None = None
    try:
        topo = await _connect_sfu(proc, gen, publishers, routes)
        await _first_packets(topo)
        latencies: list[float] = []
        if latency:
            for s in topo.subscribers:
                s.sink.timing = True
            await gen.call("pace", spec.latency_rate_pps, spec.latency_s, spec.max_packets, timeout=spec.latency_s + 30)
            await asyncio.sleep(DRAIN_S)
            for s in topo.subscribers:
                s.sink.timing = False
                latencies.extend(s.sink.latencies_ms)
        window = await _windowed(
            spec, proc, gen, rate, _fanouts(publishers, routes), topo.received, lambda n: gen.call("prepare", n)
        )
        print(window.describe(label), flush=True)
        return window, latencies
    finally:
        if topo is not None:
            await topo.close()
        gen.stop()
        proc.stop()


async def _first_packets(topo: PeerTopology, timeout: float = 10.0) -> None:
    """Send slowly until every subscriber gets packets: links are live and key-frame gates open."""
    deadline = time.monotonic() + timeout
    while not all(s.sink.packets for s in topo.subscribers):
        if time.monotonic() > deadline:
            got = sum(1 for s in topo.subscribers if s.sink.packets)
            raise BenchFailed(f"only {got} of {len(topo.subscribers)} subscribers got packets in {timeout:g} s")
        await topo.gen.call("burst", 1)
        await asyncio.sleep(0.01)


async def _direct_latency(spec: MediaSpec) -> list[float]:
    """The same publisher → subscriber measurement with no forwarder: the baseline to subtract."""
    gen = ForwarderProcess("loadgen")
    subscriber = CountingSubscriber()
    try:
        await gen.call("accept", 0, await subscriber.answer(await gen.call("offer")))
        await gen.call("ready")
        deadline = time.monotonic() + 10
        while not subscriber.sink.packets and time.monotonic() < deadline:
            await gen.call("burst", 1)
            await asyncio.sleep(0.01)
        subscriber.sink.timing = True
        await gen.call("pace", spec.latency_rate_pps, spec.latency_s, spec.max_packets, timeout=spec.latency_s + 30)
        await asyncio.sleep(DRAIN_S)
        if not subscriber.sink.latencies_ms:
            raise BenchFailed("direct path: no packet arrived")
        return subscriber.sink.latencies_ms
    finally:
        await subscriber.close()
        gen.stop()


async def _relay_phase(spec: MediaSpec) -> Window:
    proc = ForwarderProcess("relay")
    publisher = SyntheticParticipant()
    subscribers = [CountingSubscriber() for _ in range(spec.relay_subscribers)]
    try:
        publisher.publish(encode_vp8_clip(frames=30, fps=15, width=320, height=240, gop=15))
        await publisher.pc.setLocalDescription(await publisher.pc.createOffer())
        answer = await proc.call("publish", publisher.pc.localDescription.sdp)
        await publisher.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        for index, subscriber in enumerate(subscribers):
            await proc.call("accept", index, await subscriber.answer(await proc.call("subscribe", [0])))
        await asyncio.sleep(spec.relay_warmup_s)  # decoder and encoders start, the first key frame goes round
        received = lambda: sum(s.sink.packets for s in subscribers)  # noqa: E731
        sent = lambda: sum(t.sent for t in publisher.published)  # noqa: E731
        sent0, received0 = sent(), received()
        cpu0, fwd0, _ = await proc.call("mark")
        start = time.monotonic()
        await asyncio.sleep(spec.relay_s)
        cpu1, fwd1, _ = await proc.call("mark")
        wall = time.monotonic() - start
        # MediaRelay re-encodes: its output is not the input packet for packet, so loss is against what it sent.
        forwarded = fwd1 - fwd0
        window = Window(sent() - sent0, forwarded, forwarded, -1, received() - received0, cpu1 - cpu0, wall, 0, 0, 0)
        print(window.describe(f"MediaRelay 1→{spec.relay_subscribers} (320x240 VP8 15 fps)"), flush=True)
        if window.received == 0:
            raise BenchFailed("MediaRelay: no packet reached a subscriber")
        return window
    finally:
        await asyncio.gather(publisher.close(), *(s.close() for s in subscribers), return_exceptions=True)
        proc.stop()


# -- the raw-socket UDP ceiling -----------------------------------------------------------------------------


class _Receivers:
    """Plain UDP subscribers: one socket each, drained with ``recv`` when readable, counted."""

    def __init__(self, count: int) -> None:
        self.socks = [bound_udp_socket() for _ in range(count)]
        self.packets = 0
        loop = asyncio.get_running_loop()
        for sock in self.socks:
            loop.add_reader(sock.fileno(), self._drain, sock)

    @property
    def ports(self) -> list[int]:
        return [int(s.getsockname()[1]) for s in self.socks]

    def _drain(self, sock: socket.socket) -> None:
        recv, got = sock.recv, 0
        try:
            while True:
                recv(2048)
                got += 1
        except (BlockingIOError, InterruptedError):
            pass
        self.packets += got

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        for sock in self.socks:
            loop.remove_reader(sock.fileno())
            sock.close()


async def _udp_phase(spec: MediaSpec, publishers: int, routes: list[list[int]], rate: int, label: str) -> Window:
    forwarder_cpus, load_cpus = _cpus(spec)
    proc = ForwarderProcess("udp", forwarder_cpus)
    gen = ForwarderProcess("loadgen", load_cpus)
    receivers = _Receivers(len(routes))
    try:
        ports = receivers.ports
        destinations = [[ports[k] for k, sources in enumerate(routes) if p in sources] for p in range(publishers)]
        listen = await proc.call("listen", destinations)
        window = await _windowed(
            spec,
            proc,
            gen,
            rate,
            _fanouts(publishers, routes),
            lambda: receivers.packets,
            lambda n: gen.call("prepare_udp", listen, n),
        )
        print(window.describe(label), flush=True)
        return window
    finally:
        receivers.close()
        gen.stop()
        proc.stop()


# -- join to first frame through the real API and edge -----------------------------------------------------


def _real_stack(spec: MediaSpec) -> tuple[list[float], LoadReport | None]:
    """Join → first frame, then a small meeting's edge CPU per stream, on one API + edge pair."""
    with running_stack() as stack:
        joins = asyncio.run(measure_joins(stack.api_url, spec.joins)) if spec.joins else []
        meeting = None
        if spec.real_meeting_size:
            meeting = asyncio.run(
                run_load(stack.api_url, spec.real_meeting_size, spec.real_meeting_s, edge_pid=stack.edge_pid)
            )
            if not meeting.ok:
                raise BenchFailed(f"meeting on the real edge: {'; '.join(meeting.problems)}")
        return joins, meeting


# -- the whole benchmark -----------------------------------------------------------------------------------


def _routes_fanout(n: int) -> list[list[int]]:
    return [[0] for _ in range(n)]


def _routes_meeting(n: int) -> list[list[int]]:
    return [[p for p in range(n) if p != k] for k in range(n)]


def _spread(values: list[float], digits: int) -> list[float]:
    return [round(min(values), digits), round(max(values), digits)]


def _median(values: list[float], digits: int) -> float:
    return round(statistics.median(values), digits)


@dataclass(frozen=True, slots=True)
class Round:
    sfu_fan: Window
    sfu_meet: Window
    udp_fan: Window
    udp_meet: Window

    @property
    def sfu_pps(self) -> float:
        return min(self.sfu_fan.pps_per_core, self.sfu_meet.pps_per_core)

    @property
    def udp_pps(self) -> float:
        return min(self.udp_fan.pps_per_core, self.udp_meet.pps_per_core)

    @property
    def windows(self) -> tuple[Window, ...]:
        return (self.sfu_fan, self.sfu_meet, self.udp_fan, self.udp_meet)


async def _round(spec: MediaSpec, index: int, *, latency: bool) -> tuple[Round, list[float]]:
    n, m = spec.fanout_subscribers, spec.meeting_size
    fan, meet = _routes_fanout(n), _routes_meeting(m)
    tag = f"round {index + 1}"
    sfu_fan, through = await _sfu_phase(spec, 1, fan, spec.fanout_rate_pps, f"{tag} SFU 1→{n}", latency=latency)
    sfu_meet, _ = await _sfu_phase(spec, m, meet, spec.meeting_rate_pps, f"{tag} SFU {m}×{m}", latency=False)
    udp_fan = await _udp_phase(spec, 1, fan, spec.fanout_rate_pps, f"{tag} raw UDP 1→{n}")
    udp_meet = await _udp_phase(spec, m, meet, spec.meeting_rate_pps, f"{tag} raw UDP {m}×{m}")
    return Round(sfu_fan, sfu_meet, udp_fan, udp_meet), through


def _summary(rounds: list[Round]) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def put(key: str, values: list[float], digits: int) -> None:
        out[key] = _median(values, digits) if digits else round(statistics.median(values))
        out[f"{key}_spread"] = _spread(values, digits)

    put("sfu_forwarded_pps_per_core", [r.sfu_pps for r in rounds], 0)
    put("sfu_forwarded_pps_per_core_1toN", [r.sfu_fan.pps_per_core for r in rounds], 0)
    put("sfu_forwarded_pps_per_core_NxN", [r.sfu_meet.pps_per_core for r in rounds], 0)
    put("sfu_loss_vs_offered", [max(r.sfu_fan.loss, r.sfu_meet.loss) for r in rounds], 4)
    put("sfu_loss_vs_offered_1toN", [r.sfu_fan.loss for r in rounds], 4)
    put("sfu_loss_vs_offered_NxN", [r.sfu_meet.loss for r in rounds], 4)
    put("udp_raw_ceiling_pps_per_core", [r.udp_pps for r in rounds], 0)
    put("udp_raw_ceiling_pps_per_core_1toN", [r.udp_fan.pps_per_core for r in rounds], 0)
    put("udp_raw_ceiling_pps_per_core_NxN", [r.udp_meet.pps_per_core for r in rounds], 0)
    put("udp_raw_loss_vs_offered", [max(r.udp_fan.loss, r.udp_meet.loss) for r in rounds], 4)
    # Within each round (the machine is shared: ratios from one round are what compares).
    put("sfu_ratio_to_udp_raw", [r.sfu_pps / r.udp_pps if r.udp_pps else 0.0 for r in rounds], 3)
    put("media_loadgen_cpu_cores", [max(w.loadgen_cores for w in r.windows) for r in rounds], 3)
    put("media_receivers_cpu_cores", [max(w.receivers_cores for w in r.windows) for r in rounds], 3)
    return out


async def _forwarding(spec: MediaSpec) -> dict[str, Any]:
    use_host_addresses(["127.0.0.1"])
    if spec.pin_cpus and (cpus := _cpus(spec)[1]):
        os.sched_setaffinity(0, cpus)  # the subscribers (this process) with the generator
    n = spec.fanout_subscribers
    rounds: list[Round] = []
    through: list[float] = []
    for index in range(spec.rounds):
        one, samples = await _round(spec, index, latency=index == 0)
        rounds.append(one)
        through.extend(samples)
    direct = await _direct_latency(spec)
    relay = await _relay_phase(spec)
    if not through:
        raise BenchFailed("no latency sample came through the SFU")
    p50_edge, p99_edge = percentile(through, 50), percentile(through, 99)
    p50_direct, p99_direct = percentile(direct, 50), percentile(direct, 99)
    print(
        f"  latency at {spec.latency_rate_pps} pps, 1→{n}: through the SFU p50 {p50_edge:.3f} ms,"
        f" p99 {p99_edge:.3f} ms;"
        f" direct p50 {p50_direct:.3f} ms, p99 {p99_direct:.3f} ms",
        flush=True,
    )
    out = _summary(rounds)
    sfu_per_core = float(statistics.median([r.sfu_pps for r in rounds]))
    out.update(
        {
            "mediarelay_pps_per_core": round(relay.pps_per_core),
            "sfu_added_latency_p50_ms": round(max(0.0, p50_edge - p50_direct), 3),
            "sfu_added_latency_p99_ms": round(max(0.0, p99_edge - p99_direct), 3),
            "sfu_latency_through_p50_ms": round(p50_edge, 3),
            "sfu_latency_through_p99_ms": round(p99_edge, 3),
            "sfu_latency_direct_p50_ms": round(p50_direct, 3),
            "sfu_latency_direct_p99_ms": round(p99_direct, 3),
            # A stream is one publisher's video forwarded to one subscriber, at a typical camera packet rate.
            "sfu_cpu_percent_per_stream": round(100 * REFERENCE_STREAM_PPS / sfu_per_core, 3) if sfu_per_core else 0.0,
            "sfu_cpu_percent_per_stream_pps": REFERENCE_STREAM_PPS,
            "media_bench_params": (
                f"{spec.label}; packets {PACKET_SIZE} B; forwarder, generator (publishers, packets built and"
                " SRTP-protected before each window, paced sendto) and subscribers (count RTP datagrams in the socket"
                " callback) in three processes"
                f"{', pinned: forwarder on its own CPU' if spec.pin_cpus else ', not pinned'}; {os.cpu_count()} CPUs"
                " shared with whatever else runs; per core = packets the forwarder sent / its CPU s (user+sys, all"
                " its threads); loss = 1 - received / (offered x fan-out); raw UDP fan-out (recv drain, connected"
                " send per subscriber, no crypto) at the same offered rates; medians over rounds, _spread = [min,"
                " max], sfu_ratio_to_udp_raw per round; latency at"
                f" {spec.latency_rate_pps} pps per publisher for {spec.latency_s:g} s (1->{n}, round 1, added ="
                f" through-SFU minus direct, per percentile); MediaRelay 1->{spec.relay_subscribers}, 320x240 VP8 15"
                f" fps, {spec.relay_s:g} s"
            ),
        }
    )
    return out


def run(spec: MediaSpec = SPEC) -> dict[str, Any]:
    try:
        out = asyncio.run(_forwarding(spec))
    except ForwarderFailed as exc:
        raise BenchFailed(str(exc)) from exc
    joins, meeting = _real_stack(spec)
    if joins:
        print(
            f"  join → first remote frame (aiortc synthetic participant, real API + edge): {len(joins)} joins,"
            f" median {statistics.median(joins):.0f} ms, max {max(joins):.0f} ms",
            flush=True,
        )
        out["join_to_first_frame_ms"] = round(statistics.median(joins), 1)
        out["join_to_first_frame_max_ms"] = round(max(joins), 1)
        out["join_to_first_frame_source"] = (
            f"aiortc synthetic participant, median of {len(joins)} joins: GraphQL joinMeeting sent -> first decoded"
            " remote video frame, through the real API and edge processes on loopback (the publisher's clip has a"
            " key frame every 100 ms, standing in for an encoder answering the edge's PLI)"
        )
    if meeting is not None and meeting.edge_cpu_percent_per_stream is not None:
        print(
            f"  real edge process, {meeting.participants} synthetic participants (320x240 VP8 {meeting.fps} fps):"
            f" {meeting.streams} streams at {meeting.window_rtp_pps_per_stream:g} pkt/s each, edge CPU"
            f" {meeting.edge_cpu_percent:g}% of a core → {meeting.edge_cpu_percent_per_stream:g}% per stream,"
            f" {meeting.loss_fraction:.2%} RTP lost",
            flush=True,
        )
        out["edge_process_cpu_percent_per_stream"] = meeting.edge_cpu_percent_per_stream
        out["edge_process_stream_pps"] = meeting.window_rtp_pps_per_stream
        out["edge_process_meeting"] = (
            f"python -m edge, {meeting.participants} aiortc synthetic participants each publishing 320x240 VP8 at"
            f" {meeting.fps} fps and decoding the others ({meeting.streams} streams), {meeting.seconds:g} s;"
            " CPU from /proc (user+sys)"
        )
    return out
