"""Relay trunk: datagrams per CPU-second through one QUIC relay link vs a raw UDP socket, and the added latency of
a hop, measured side by side in one run (interleaved rounds: this host's speed drifts between runs).

Two processes per round, as two edges would be: a **sender** (an edge forwarding a track to a remote edge) and a
**receiver**. The sender offers the same packets at the same rate in both modes - 1,100-byte RTP-sized packets
in 1 ms batches, the shape of a forwarder's output - and measures its own CPU time over the window:

- ``relay``: a :class:`relay.protocol.RelayEndpoint` link (QUIC with TLS 1.3, DATAGRAM frames, the trunk queue),
  the receiver subscribed to the track;
- ``udp``: a connected UDP socket's ``send`` per packet (the raw-socket ceiling; no encryption).

Loss is counted against packets **offered**, in both modes. ``*_pps_per_core`` = packets delivered / sender CPU
seconds (the receiver's CPU is reported too). Latency: each packet carries its send time (CLOCK_MONOTONIC is
shared by processes on one host); the hop latency is receive time - send time, at a light rate in its own phase.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import statistics
import struct
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PACKET_BYTES = 1100
HEADER = struct.Struct("!BBHQ")  # RTP-like version/payload type, sequence, send time (ns)


@dataclass(frozen=True, slots=True)
class RelaySpec:
    rate_pps: int = 15_000
    seconds: float = 3.0
    latency_rate_pps: int = 1_000
    latency_seconds: float = 2.0
    rounds: int = 3
    warmup_s: float = 0.5


SPEC = RelaySpec()


def _packet(seq: int) -> bytes:
    return HEADER.pack(0x80, 96, seq & 0xFFFF, time.monotonic_ns()) + bytes(PACKET_BYTES - HEADER.size)


async def _paced(send: Any, rate: int, seconds: float, flush: Any) -> int:
    """Offer ``rate`` packets/s for ``seconds`` in 1 ms batches; returns packets offered."""
    loop = asyncio.get_running_loop()
    per_ms = rate / 1000
    start = loop.time()
    offered = 0
    while (elapsed := loop.time() - start) < seconds:
        due = int(per_ms * (elapsed * 1000 + 1))
        while offered < due:
            send(_packet(offered))
            offered += 1
        flush()
        await asyncio.sleep(0.001)
    return offered


# -- receiver ------------------------------------------------------------------------------------------------


def _receiver(mode: str, key_pem: bytes, conn: Any) -> None:
    asyncio.run(_receive(mode, key_pem, conn))


async def _receive(mode: str, key_pem: bytes, conn: Any) -> None:
    from relay.protocol import grow_buffers
    from relay.session import MediaReceived, TrackAnnounced

    latencies: list[float] = []
    got = 0
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    def seen(data: bytes) -> None:
        nonlocal got
        got += 1
        if len(latencies) < 200_000:
            latencies.append((time.monotonic_ns() - HEADER.unpack_from(data)[3]) / 1e6)

    if mode == "udp":

        class Sink(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                seen(data)

        transport, _ = await loop.create_datagram_endpoint(Sink, local_addr=("127.0.0.1", 0))
        grow_buffers(transport.get_extra_info("socket"))  # as the relay endpoint does: like with like
        conn.send(transport.get_extra_info("sockname")[:2])
    else:
        endpoint = _endpoint("receiver", key_pem)

        def on_event(link: Any, ev: Any) -> None:
            if isinstance(ev, TrackAnnounced):
                link.session.subscribe(ev.announce.track)
                link.transmit()
            elif isinstance(ev, MediaReceived):
                seen(ev.packet)

        endpoint.on_link = lambda link: setattr(link, "on_event", on_event)
        conn.send(await endpoint.start())
    cpu0 = 0.0

    def command() -> None:
        nonlocal got, cpu0
        msg = conn.recv()
        if msg == "reset":
            got = 0
            latencies.clear()
            cpu0 = time.process_time()
        elif msg == "report":
            conn.send({"received": got, "latencies": latencies, "cpu_s": time.process_time() - cpu0})
            done.set()

    loop.add_reader(conn.fileno(), command)
    await done.wait()


# -- sender --------------------------------------------------------------------------------------------------


def _endpoint(name: str, key_pem: bytes) -> Any:
    from relay.auth import RelayTokenVerifier, issue_relay_token
    from relay.certs import self_signed
    from relay.frames import Hello
    from relay.protocol import RelayEndpoint

    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return RelayEndpoint(
        lambda: Hello(name, "bench", issue_relay_token(key, name, "bench", now=time.time())),
        RelayTokenVerifier(key.public_key()),
        self_signed(name),
    )


def _sender(mode: str, key_pem: bytes, addr: Any, rate: int, seconds: float, warmup: float, conn: Any) -> None:
    conn.send(asyncio.run(_send(mode, key_pem, tuple(addr), rate, seconds, warmup, conn)))


async def _send(mode: str, key_pem: bytes, addr: Any, rate: int, seconds: float, warmup: float, conn: Any) -> Any:
    from relay.protocol import grow_buffers
    from relay.session import SubscriptionChanged

    if mode == "udp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect(addr)
        sock.setblocking(False)
        grow_buffers(sock)
        dropped = 0

        def send(p: bytes) -> None:
            nonlocal dropped
            try:
                sock.send(p)
            except BlockingIOError:
                dropped += 1

        def flush() -> None:
            return None

        link = None
    else:
        endpoint = _endpoint("sender", key_pem)
        await endpoint.start()
        subscribed = asyncio.Event()

        def on_event(lnk: Any, ev: Any) -> None:
            if isinstance(ev, SubscriptionChanged):
                subscribed.set()

        link = await endpoint.connect(addr, expected_peer="receiver", on_event=on_event)
        track = link.session.announce("bench", "p", "t", "video", "camera")
        link.transmit()
        await asyncio.wait_for(subscribed.wait(), 5)

        def send(p: bytes) -> None:
            link.session.send_media(track, p)

        flush = link.transmit
    await _paced(send, rate, warmup, flush)  # congestion window opened, caches warm
    await asyncio.sleep(0.1)
    conn.send("warm")
    conn.recv()  # the receiver has reset its counters
    cpu0 = time.process_time()
    offered = await _paced(send, rate, seconds, flush)
    cpu = time.process_time() - cpu0
    await asyncio.sleep(0.3)  # let the tail arrive
    result: dict[str, Any] = {"offered": offered, "cpu_s": cpu}
    if link is not None:
        result["queue_dropped"] = sum(link.session.queue.dropped.values())
        loss = link.session.quic._loss  # private: aioquic has no public view of its congestion state
        result["cwnd"] = loss._cc.congestion_window
        result["srtt_ms"] = loss._rtt_smoothed * 1000
    return result


# -- one round -----------------------------------------------------------------------------------------------


def _round(mode: str, rate: int, seconds: float, warmup: float, key_pem: bytes) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    r_conn, r_child = ctx.Pipe()
    s_conn, s_child = ctx.Pipe()
    receiver = ctx.Process(target=_receiver, args=(mode, key_pem, r_child), daemon=True)
    receiver.start()
    try:
        if not r_conn.poll(30):
            raise RuntimeError("relay bench receiver did not start")
        addr = r_conn.recv()
        sender = ctx.Process(target=_sender, args=(mode, key_pem, addr, rate, seconds, warmup, s_child), daemon=True)
        sender.start()
        try:
            if not s_conn.poll(30):
                raise RuntimeError("relay bench sender did not connect")
            assert s_conn.recv() == "warm"
            r_conn.send("reset")
            time.sleep(0.05)
            s_conn.send("go")
            if not s_conn.poll(seconds + 30):
                raise RuntimeError("relay bench sender did not finish")
            sent = s_conn.recv()
            r_conn.send("report")
            if not r_conn.poll(30):
                raise RuntimeError("relay bench receiver did not report")
            got = r_conn.recv()
        finally:
            sender.join(5)
            if sender.is_alive():
                sender.kill()
    finally:
        receiver.join(5)
        if receiver.is_alive():
            receiver.kill()
    lat = sorted(got["latencies"]) or [float("nan")]
    return {
        "mode": mode,
        "offered": sent["offered"],
        "received": got["received"],
        "loss": 1 - got["received"] / sent["offered"] if sent["offered"] else 1.0,
        "sender_cpu_s": sent["cpu_s"],
        "receiver_cpu_s": got["cpu_s"],
        "pps_per_core": got["received"] / sent["cpu_s"] if sent["cpu_s"] else 0.0,
        "receiver_pps_per_core": got["received"] / got["cpu_s"] if got["cpu_s"] else 0.0,
        "latency_p50_ms": lat[len(lat) // 2],
        "latency_p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "queue_dropped": sent.get("queue_dropped", 0),
        "cwnd": sent.get("cwnd"),
        "srtt_ms": sent.get("srtt_ms"),
    }


def run(spec: RelaySpec = SPEC) -> dict[str, float | int | str]:
    key_pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    throughput: dict[str, list[dict[str, Any]]] = {"relay": [], "udp": []}
    latency: dict[str, list[dict[str, Any]]] = {"relay": [], "udp": []}
    for n in range(spec.rounds):
        for mode in ("relay", "udp") if n % 2 == 0 else ("udp", "relay"):
            r = _round(mode, spec.rate_pps, spec.seconds, spec.warmup_s, key_pem)
            throughput[mode].append(r)
            print(f"relay bench {mode} round {n}: {r['pps_per_core']:,.0f} pkt/CPU-s, loss {r['loss']:.4f}", flush=True)
            latency[mode].append(_round(mode, spec.latency_rate_pps, spec.latency_seconds, spec.warmup_s, key_pem))

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return float(statistics.median(r[key] for r in rows))

    def spread(rows: list[dict[str, Any]], key: str) -> str:
        return f"{min(r[key] for r in rows):,.0f} - {max(r[key] for r in rows):,.0f}"

    relay, udp = throughput["relay"], throughput["udp"]
    out: dict[str, float | int | str] = {
        "relay_pps_per_core": round(med(relay, "pps_per_core")),
        "relay_pps_per_core_spread": spread(relay, "pps_per_core"),
        "relay_receiver_pps_per_core": round(med(relay, "receiver_pps_per_core")),
        "relay_loss_vs_offered": round(med(relay, "loss"), 5),
        "relay_udp_ceiling_pps_per_core": round(med(udp, "pps_per_core")),
        "relay_udp_ceiling_pps_per_core_spread": spread(udp, "pps_per_core"),
        "relay_udp_loss_vs_offered": round(med(udp, "loss"), 5),
        "relay_ratio_to_udp": round(med(relay, "pps_per_core") / med(udp, "pps_per_core"), 3),
        "relay_hop_latency_p50_ms": round(med(latency["relay"], "latency_p50_ms"), 3),
        "relay_hop_latency_p99_ms": round(med(latency["relay"], "latency_p99_ms"), 3),
        "relay_udp_latency_p50_ms": round(med(latency["udp"], "latency_p50_ms"), 3),
        "relay_udp_latency_p99_ms": round(med(latency["udp"], "latency_p99_ms"), 3),
        "relay_added_latency_p50_ms": round(
            med(latency["relay"], "latency_p50_ms") - med(latency["udp"], "latency_p50_ms"), 3
        ),
        "relay_added_latency_p99_ms": round(
            med(latency["relay"], "latency_p99_ms") - med(latency["udp"], "latency_p99_ms"), 3
        ),
    }
    out["relay_source"] = (
        f"two processes per round (sender edge, receiver edge) on loopback, {spec.rate_pps:,} packets/s of "
        f"{PACKET_BYTES} bytes offered for {spec.seconds:g} s in 1 ms batches, {spec.rounds} interleaved rounds "
        f"per mode (median; spread = min/max); latency at {spec.latency_rate_pps:,}/s; loss vs offered; "
        f"pkt/CPU-s = delivered / sender CPU; host cpus {os.cpu_count()}"
    )
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
