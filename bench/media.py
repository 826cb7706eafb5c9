"""Media forwarding: packets/s per core of the edge's forwarding path against a plain asyncio UDP fan-out (the
Python ceiling) and aiortc's MediaRelay (decode and re-encode); latency the edge adds; join to first frame.

Every forwarder runs alone in a child process (``bench.media_forwarders``) and reports its own CPU time, so
"per core" is *packets it sent ÷ CPU seconds it used*: the load (publishers and subscribers, this process)
shares the machine's cores but is not counted. Topologies: 1 publisher → N subscribers, and an NxN meeting
(everyone publishes one video and receives every other one, over one connection per subscriber). Latency is
one way, publisher send → subscriber receive (both in this process, so one clock), through the edge minus the
same path direct, at a moderate rate.

The SFU child hosts edge-side peer connections wired with the edge's public forwarding functions
(``edge.rtp_hooks``), so it measures the forwarding path alone. The real ``python -m edge`` process (with the
API, signalling, rooms) is measured too: join → first decoded remote frame, and its CPU per stream in a small
meeting of ``edge.synthetic`` participants (``testkit.media_load``).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiortc import RTCSessionDescription

from bench.loadgen import BenchFailed
from bench.media_forwarders import ForwarderFailed, ForwarderProcess, bound_udp_socket
from bench.media_peers import PACKET_SIZE, CountingSubscriber, RawPublisher, pace, percentile, rtp_packet
from edge.ice import use_host_addresses
from edge.synthetic import SyntheticParticipant, encode_vp8_clip
from testkit.media_load import LoadReport, measure_joins, run_load
from testkit.media_stack import running_stack


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
    throughput_s: float = 5.0
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
            f" at {self.meeting_rate_pps} pps per publisher, {self.throughput_s:g} s each"
        )


SPEC = MediaSpec()
REFERENCE_STREAM_PPS = 150
"""Packets/s of one typical forwarded video stream (about 1.3 Mbit/s of 1,100-byte packets: 720p camera video),
for expressing edge CPU per stream."""
DRAIN_S = 0.3
"""After the last packet is sent, before the closing mark: packets still queued reach the subscribers."""


@dataclass(frozen=True, slots=True)
class Window:
    """One measurement window in a forwarder process."""

    sent: int
    """Packets offered by the publishers."""
    forwarded: int
    """Packets the forwarder sent on (its own count)."""
    received: int
    """Packets the subscribers got."""
    cpu_s: float
    """The forwarder process's CPU time."""
    wall_s: float

    @property
    def pps_per_core(self) -> float:
        return self.forwarded / self.cpu_s if self.cpu_s > 0 else 0.0

    @property
    def loss(self) -> float:
        expected = max(self.forwarded, 1)
        return max(0.0, 1 - self.received / expected)

    def describe(self, label: str) -> str:
        return (
            f"  {label}: {self.sent} in, {self.forwarded} forwarded, {self.received} received"
            f" ({self.loss:.1%} lost) in {self.wall_s:.1f} s; forwarder CPU {self.cpu_s:.2f} s"
            f" ({self.cpu_s / self.wall_s:.0%} of a core) → {self.pps_per_core:,.0f} pkt/s per core"
        )


async def _windowed(
    proc: ForwarderProcess, send: Callable[[], Awaitable[None]], sent: Callable[[], int], received: Callable[[], int]
) -> Window:
    sent0, received0 = sent(), received()
    cpu0, fwd0 = await proc.call("mark")
    start = time.monotonic()
    await send()
    await asyncio.sleep(DRAIN_S)
    cpu1, fwd1 = await proc.call("mark")
    wall = time.monotonic() - start
    return Window(sent() - sent0, fwd1 - fwd0, received() - received0, cpu1 - cpu0, wall)


# -- SFU and MediaRelay: aiortc peers -----------------------------------------------------------------------


@dataclass(eq=False)
class PeerTopology:
    proc: ForwarderProcess
    publishers: list[RawPublisher]
    subscribers: list[CountingSubscriber]

    def sent(self) -> int:
        return sum(p.sent for p in self.publishers)

    def received(self) -> int:
        return sum(s.sink.packets for s in self.subscribers)

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.publishers), return_exceptions=True)
        await asyncio.gather(*(s.close() for s in self.subscribers), return_exceptions=True)


async def _connect_sfu(proc: ForwarderProcess, publishers: int, routes: list[list[int]]) -> PeerTopology:
    """``routes[k]``: which publishers subscriber ``k`` receives (one connection per subscriber)."""
    topo = PeerTopology(proc, [RawPublisher() for _ in range(publishers)], [CountingSubscriber() for _ in routes])
    for publisher in topo.publishers:
        await publisher.accept(await proc.call("publish", await publisher.offer()))
    for index, (subscriber, sources) in enumerate(zip(topo.subscribers, routes, strict=True)):
        offer = await proc.call("subscribe", sources)
        await proc.call("accept", index, await subscriber.answer(offer))
    await asyncio.gather(*(p.ready() for p in topo.publishers))
    await proc.call("start")
    return topo


async def _sfu_phase(
    spec: MediaSpec, publishers: int, routes: list[list[int]], rate: int, label: str, *, latency: bool
) -> tuple[Window, list[float]]:
    proc = ForwarderProcess("sfu")
    topo: PeerTopology | None = None
    try:
        topo = await _connect_sfu(proc, publishers, routes)
        await _first_packets(topo)
        latencies: list[float] = []
        if latency:
            for s in topo.subscribers:
                s.sink.timing = True
            await pace(topo.publishers, spec.latency_rate_pps, spec.latency_s, spec.max_packets)
            await asyncio.sleep(DRAIN_S)
            for s in topo.subscribers:
                s.sink.timing = False
                latencies.extend(s.sink.latencies_ms)
        window = await _windowed(
            proc,
            lambda: pace(topo.publishers, rate, spec.throughput_s, spec.max_packets),
            topo.sent,
            topo.received,
        )
        print(window.describe(label), flush=True)
        return window, latencies
    finally:
        if topo is not None:
            await topo.close()
        proc.stop()


async def _first_packets(topo: PeerTopology, timeout: float = 10.0) -> None:
    """Send slowly until every subscriber gets packets: links are live and key-frame gates open."""
    deadline = time.monotonic() + timeout
    while not all(s.sink.packets for s in topo.subscribers):
        if time.monotonic() > deadline:
            got = sum(1 for s in topo.subscribers if s.sink.packets)
            raise BenchFailed(f"only {got} of {len(topo.subscribers)} subscribers got packets in {timeout:g} s")
        for publisher in topo.publishers:
            await publisher.send_burst(1)
        await asyncio.sleep(0.01)


async def _direct_latency(spec: MediaSpec) -> list[float]:
    """The same publisher → subscriber measurement with no forwarder: the baseline to subtract."""
    publisher, subscriber = RawPublisher(), CountingSubscriber()
    try:
        await publisher.accept(await subscriber.answer(await publisher.offer()))
        await publisher.ready()
        deadline = time.monotonic() + 10
        while not subscriber.sink.packets and time.monotonic() < deadline:
            await publisher.send_burst(1)
            await asyncio.sleep(0.01)
        subscriber.sink.timing = True
        await pace([publisher], spec.latency_rate_pps, spec.latency_s, spec.max_packets)
        await asyncio.sleep(DRAIN_S)
        if not subscriber.sink.latencies_ms:
            raise BenchFailed("direct path: no packet arrived")
        return subscriber.sink.latencies_ms
    finally:
        await asyncio.gather(publisher.close(), subscriber.close(), return_exceptions=True)


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

        async def wait() -> None:
            await asyncio.sleep(spec.relay_s)

        received = lambda: sum(s.sink.packets for s in subscribers)  # noqa: E731
        window = await _windowed(proc, wait, lambda: sum(t.sent for t in publisher.published), received)
        print(window.describe(f"MediaRelay 1→{spec.relay_subscribers} (320x240 VP8 15 fps)"), flush=True)
        if window.received == 0:
            raise BenchFailed("MediaRelay: no packet reached a subscriber")
        return window
    finally:
        await asyncio.gather(publisher.close(), *(s.close() for s in subscribers), return_exceptions=True)
        proc.stop()


# -- the plain UDP ceiling --------------------------------------------------------------------------------


class _Count(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.packets = 0

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.packets += 1


async def _udp_phase(spec: MediaSpec, publishers: int, routes: list[list[int]], rate: int, label: str) -> Window:
    loop = asyncio.get_running_loop()
    proc = ForwarderProcess("udp")
    transports: list[asyncio.BaseTransport] = []
    outs: list[asyncio.DatagramTransport] = []
    try:
        counters: list[_Count] = []
        ports: list[int] = []
        for _ in routes:
            sock = bound_udp_socket()
            transport, counter = await loop.create_datagram_endpoint(_Count, sock=sock)
            transports.append(transport)
            counters.append(counter)
            ports.append(int(sock.getsockname()[1]))
        destinations = [[ports[k] for k, sources in enumerate(routes) if p in sources] for p in range(publishers)]
        listen = await proc.call("listen", destinations)
        for port in listen:
            out, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, remote_addr=("127.0.0.1", port))
            transports.append(out)
            outs.append(out)
        sent = [0]
        packet = rtp_packet(96, 0, 0, 0x1234)

        async def send() -> None:
            start = time.monotonic()
            while (elapsed := time.monotonic() - start) < spec.throughput_s:
                due = min(spec.max_packets, int(rate * elapsed))
                while sent[0] // publishers < due:
                    for out in outs:
                        out.sendto(packet)
                    sent[0] += publishers
                await asyncio.sleep(0.001)

        window = await _windowed(proc, send, lambda: sent[0], lambda: sum(c.packets for c in counters))
        print(window.describe(label), flush=True)
        return window
    finally:
        for opened in transports:
            opened.close()
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


async def _forwarding(spec: MediaSpec) -> dict[str, float | int | str]:
    use_host_addresses(["127.0.0.1"])
    n, m = spec.fanout_subscribers, spec.meeting_size
    fan, meet = _routes_fanout(n), _routes_meeting(m)
    sfu_fan, through = await _sfu_phase(spec, 1, fan, spec.fanout_rate_pps, f"SFU 1→{n}", latency=True)
    sfu_meet, _ = await _sfu_phase(spec, m, meet, spec.meeting_rate_pps, f"SFU {m}×{m}", latency=False)
    direct = await _direct_latency(spec)
    udp_fan = await _udp_phase(spec, 1, fan, spec.fanout_rate_pps * 4, f"UDP 1→{n}")
    udp_meet = await _udp_phase(spec, m, meet, spec.meeting_rate_pps * 4, f"UDP {m}×{m}")
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
    sfu_per_core = min(sfu_fan.pps_per_core, sfu_meet.pps_per_core)
    return {
        "sfu_forwarded_pps_per_core": round(sfu_per_core),
        "sfu_forwarded_pps_per_core_1toN": round(sfu_fan.pps_per_core),
        "sfu_forwarded_pps_per_core_NxN": round(sfu_meet.pps_per_core),
        "sfu_forwarded_loss_1toN": round(sfu_fan.loss, 4),
        "sfu_forwarded_loss_NxN": round(sfu_meet.loss, 4),
        "udp_ceiling_pps_per_core": round(min(udp_fan.pps_per_core, udp_meet.pps_per_core)),
        "udp_ceiling_pps_per_core_1toN": round(udp_fan.pps_per_core),
        "udp_ceiling_pps_per_core_NxN": round(udp_meet.pps_per_core),
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
            f"{spec.label}; packets {PACKET_SIZE} B; latency at {spec.latency_rate_pps} pps per publisher for"
            f" {spec.latency_s:g} s (1->{n}, added = through-SFU minus direct, per percentile); UDP ceiling offered"
            f" 4x the SFU rates; MediaRelay 1->{spec.relay_subscribers}, 320x240 VP8 15 fps, {spec.relay_s:g} s;"
            f" {os.cpu_count()} CPUs shared by load and forwarder; per core = packets the forwarder sent / its CPU s"
            " (user+sys of its process; loopback softirq time is charged to no process and left out for all three:"
            " counted in, it lowered UDP ~30% and SFU ~10% in one check)"
        ),
    }


def run(spec: MediaSpec = SPEC) -> dict[str, float | int | str]:
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
