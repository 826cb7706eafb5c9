"""The processes under test in the media benchmark, each alone in a child process so its CPU can be measured:

- ``sfu``: edge-side aiortc peer connections wired with the edge's public forwarding functions
  (``tap_receiver``/``tap_sender``/``link``): decrypt, rewrite per subscriber, encrypt, no codec;
- ``relay``: aiortc's standard ``MediaRelay``: the publisher's track is decoded once and re-encoded for every
  subscriber's sender (what aiortc does without the edge's taps);
- ``udp``: a raw-socket UDP fan-out (no crypto, no rewrite): each listening socket is drained with ``recv`` when
  readable and every datagram goes out with ``send`` on one connected socket per subscriber: the Python ceiling
  for moving the same packets (the SFU writes to its sockets directly too, so asyncio's transport is not in it);
- ``loadgen``: not a forwarder: the publishers (``bench.media_peers.LoadGenerator``), so the load generator has a
  process (and CPU count) of its own.

The parent drives a child over a ``multiprocessing`` pipe with ``(operation, *args)`` tuples; ``mark`` returns
the child's CPU time (every thread: ``time.process_time``), its forwarded-packet count and how many packets it
read, so the parent can
difference two marks around a measurement window.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import time
from multiprocessing.connection import Connection
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

from bench.media_peers import LoadGenerator
from edge.codecs import prefer_codec
from edge.ice import use_host_addresses
from edge.rtp_hooks import PublishedTrack, SubscribedTrack, link, tap_receiver, tap_sender

VP8 = "video/VP8"
CALL_TIMEOUT_S = 20.0
READY_TIMEOUT_S = 10.0
SOCKET_BUFFER_BYTES = 4 * 1024 * 1024
"""Asked for on every UDP socket here (the kernel caps it at rmem_max): bursts queue instead of dropping."""


class ForwarderFailed(RuntimeError):
    """A child process refused an operation or died; the message carries its error."""


async def _answer(pc: RTCPeerConnection, offer: str) -> str:
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    return str(pc.localDescription.sdp)


async def _offer(pc: RTCPeerConnection) -> str:
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


class SfuHost:
    """Edge-side peer connections: one per publisher (tapped receiver), one per subscriber (tapped senders)."""

    def __init__(self) -> None:
        self.pcs: list[RTCPeerConnection] = []
        self.published: list[PublishedTrack] = []
        self.subscribers: list[tuple[RTCPeerConnection, list[tuple[int, SubscribedTrack]]]] = []

    async def publish(self, offer: str) -> str:
        pc = RTCPeerConnection()
        self.pcs.append(pc)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        (transceiver,) = pc.getTransceivers()
        self.published.append(tap_receiver(transceiver))  # before DTLS is up, so no decoder ever starts
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    async def subscribe(self, sources: list[int]) -> str:
        pc = RTCPeerConnection()
        self.pcs.append(pc)
        tracks = []
        for source in sources:
            transceiver = pc.addTransceiver("video", direction="sendonly")
            prefer_codec(transceiver, VP8)
            tracks.append((source, tap_sender(transceiver)))
        self.subscribers.append((pc, tracks))
        return await _offer(pc)

    async def accept(self, index: int, answer: str) -> None:
        pc, _ = self.subscribers[index]
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def start(self) -> None:
        waits = [p.ready.wait() for p in self.published]
        waits += [s.ready.wait() for _, tracks in self.subscribers for _, s in tracks]
        await asyncio.wait_for(asyncio.gather(*waits), READY_TIMEOUT_S)
        for _, tracks in self.subscribers:
            for source, subscribed in tracks:
                link(self.published[source], subscribed)

    def forwarded(self) -> int:
        # DownTrack.packets: packets rewritten for (and handed to) each subscriber.
        return sum(
            int(getattr(s.down_track, "packets", 0))
            for _, tracks in self.subscribers
            for _, s in tracks
            if s.down_track
        )

    def read(self) -> int:
        # Forwarder.packets_in: packets the taps decrypted and handed to the forwarders.
        return sum(p.forwarder.packets_in for p in self.published if p.forwarder is not None)

    async def mark(self) -> tuple[float, int, int]:
        return time.process_time(), self.forwarded(), self.read()

    async def close(self) -> None:
        await asyncio.gather(*(pc.close() for pc in self.pcs), return_exceptions=True)


class RelayHost:
    """aiortc's MediaRelay: decode each published track once, re-encode it for every subscriber."""

    def __init__(self) -> None:
        self.relay = MediaRelay()
        self.pcs: list[RTCPeerConnection] = []
        self.tracks: list[MediaStreamTrack] = []
        self.subscribers: list[RTCPeerConnection] = []

    async def publish(self, offer: str) -> str:
        pc = RTCPeerConnection()
        self.pcs.append(pc)
        pc.on("track", self.tracks.append)  # fires inside setRemoteDescription
        return await _answer(pc, offer)

    async def subscribe(self, sources: list[int]) -> str:
        pc = RTCPeerConnection()
        self.pcs.append(pc)
        self.subscribers.append(pc)
        for source in sources:
            sender = pc.addTrack(self.relay.subscribe(self.tracks[source]))
            transceiver = next(t for t in pc.getTransceivers() if t.sender is sender)
            transceiver.direction = "sendonly"
            prefer_codec(transceiver, VP8)
        return await _offer(pc)

    async def accept(self, index: int, answer: str) -> None:
        await self.subscribers[index].setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def start(self) -> None:
        return None  # senders start on their own once connected

    async def mark(self) -> tuple[float, int, int]:
        sent = 0
        for pc in self.subscribers:
            for sender in pc.getSenders():
                for stat in (await sender.getStats()).values():
                    if getattr(stat, "type", "") == "outbound-rtp":
                        sent += int(stat.packetsSent)
        return time.process_time(), sent, -1  # what the decoder read is not counted

    async def close(self) -> None:
        await asyncio.gather(*(pc.close() for pc in self.pcs), return_exceptions=True)


class UdpHost:
    """One listening socket per publisher; each datagram is sent on to that publisher's subscribers."""

    def __init__(self) -> None:
        self.forwarded = 0
        self.read = 0
        self.refused = 0
        self.socks: list[socket.socket] = []
        self.listeners: list[socket.socket] = []

    async def listen(self, destinations: list[list[int]]) -> list[int]:
        """``destinations[i]``: the loopback ports publisher ``i``'s packets go to; returns where each listens."""
        loop = asyncio.get_running_loop()
        ports = []
        for ports_out in destinations:
            outs: list[socket.socket] = []
            for port in ports_out:
                out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                out.setblocking(False)
                out.connect(("127.0.0.1", port))
                outs.append(out)
                self.socks.append(out)
            sock = bound_udp_socket()
            self.listeners.append(sock)
            loop.add_reader(sock.fileno(), self._drain, sock, [o.send for o in outs])
            ports.append(int(sock.getsockname()[1]))
        return ports

    def _drain(self, sock: socket.socket, sends: list[Any]) -> None:
        recv = sock.recv
        forwarded = read = 0
        try:
            while True:
                data = recv(2048)
                read += 1
                for send in sends:
                    try:
                        send(data)
                    except (BlockingIOError, InterruptedError):
                        self.refused += 1
                    else:
                        forwarded += 1
        except (BlockingIOError, InterruptedError):
            pass
        finally:
            self.forwarded += forwarded
            self.read += read

    async def mark(self) -> tuple[float, int, int]:
        return time.process_time(), self.forwarded, self.read

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        for sock in self.listeners:
            loop.remove_reader(sock.fileno())
            sock.close()
        for sock in self.socks:
            sock.close()


def bound_udp_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER_BYTES)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


HOSTS = {"sfu": SfuHost, "relay": RelayHost, "udp": UdpHost, "loadgen": LoadGenerator}


def _serve(conn: Connection, mode: str, cpus: set[int] | None) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)
    use_host_addresses(["127.0.0.1"])  # media stays on loopback
    if os.environ.get("PROFILE_SFU") and mode == "sfu":
        import cProfile

        prof = cProfile.Profile(time.thread_time)
        prof.runctx("asyncio.run(_serve_async(conn, mode))", globals(), locals())
        prof.dump_stats(os.environ["PROFILE_SFU"] + str(os.getpid()))
        return
    asyncio.run(_serve_async(conn, mode))


async def _serve_async(conn: Connection, mode: str) -> None:
    host: Any = HOSTS[mode]()
    try:
        while True:
            op, *args = await asyncio.to_thread(conn.recv)
            if op == "stop":
                return
            try:
                result = await getattr(host, op)(*args)
            except Exception as exc:  # the task boundary: the parent reports it and stops the run
                conn.send(("error", f"{op}: {type(exc).__name__}: {exc}"))
            else:
                conn.send(("ok", result))
    finally:
        await host.close()
        conn.close()


class ForwarderProcess:
    """A child process hosting one of :data:`HOSTS`; ``await call(op, *args)`` runs ``op`` in it."""

    def __init__(self, mode: str, cpus: set[int] | None = None) -> None:
        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no event loop state inherited
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, mode, cpus), name=f"bench-media-{mode}", daemon=True)
        self.process.start()
        child.close()
        self.mode = mode

    async def call(self, op: str, *args: Any, timeout: float = CALL_TIMEOUT_S) -> Any:
        self.conn.send((op, *args))
        try:
            status, result = await asyncio.wait_for(asyncio.to_thread(self._recv), timeout)
        except TimeoutError:
            raise ForwarderFailed(f"{self.mode} {op} did not answer within {timeout:g} s") from None
        if status != "ok":
            raise ForwarderFailed(f"{self.mode} {result}")
        return result

    def _recv(self) -> tuple[str, Any]:
        try:
            message: tuple[str, Any] = self.conn.recv()
        except EOFError:
            raise ForwarderFailed(f"{self.mode} process exited (code {self.process.exitcode})") from None
        return message

    def stop(self) -> None:
        """Ask the child to close its connections, then make sure it is gone (bounded)."""
        try:
            self.conn.send(("stop",))
        except OSError:
            pass  # already gone
        self.process.join(5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        self.conn.close()
