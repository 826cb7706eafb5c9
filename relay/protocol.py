"""The relay's only asyncio code: one UDP socket per edge carrying all its relay links.

:class:`RelayEndpoint` owns the socket. Links are told apart by the peer's address (edges do not roam, so QUIC
connection migration is not needed; RFC 9000 section 9 allows a server to refuse it). A datagram from an
unknown address opens a server-side link only if it is a QUIC Initial of a supported version padded to 1,200
bytes (RFC 9000 section 14.1), and only up to ``max_links``: spoofed Initials cannot grow memory without bound.

Everything else is :class:`relay.session.RelaySession`. The endpoint feeds it datagrams and the time, arms one
timer per link, and sends what it produces. Sending is coalesced: however many packets a link is given in one
event-loop iteration (a burst of forwarded RTP), its datagrams go out once, at the end of the iteration, in as
few QUIC packets as they fit. The socket is driven directly rather than through asyncio's datagram transport,
which wakes the loop once per received datagram: here one wake-up drains up to ``MAX_READ_BATCH``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from aioquic._buffer import Buffer
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import NetworkAddress, QuicConnection
from aioquic.quic.packet import QuicPacketType, pull_quic_header

from relay.auth import RelayPeer, RelayTokenVerifier
from relay.certs import RelayCertificate
from relay.frames import Hello
from relay.session import ALPN, MAX_DATAGRAM_FRAME_SIZE, LinkClosed, PeerReady, RelayEvent, RelaySession

log = logging.getLogger("meetmesh.relay")

SMALLEST_INITIAL = 1200
"""RFC 9000 section 14.1: a client's Initial is padded to at least this."""
MAX_DATAGRAM_SIZE = 1452
"""QUIC packets up to an Ethernet MTU (1,500 - IPv4 20 - UDP 8 - 20 of margin): one RTP packet of up to ~1,390
bytes fits one datagram. Loopback and data-centre links carry it; a smaller path MTU would need PMTU discovery."""


def relay_configuration(*, is_client: bool, certificate: RelayCertificate | None = None) -> QuicConfiguration:
    conf = QuicConfiguration(
        is_client=is_client,
        alpn_protocols=[ALPN],
        max_datagram_frame_size=MAX_DATAGRAM_FRAME_SIZE,
        max_datagram_size=MAX_DATAGRAM_SIZE,
        idle_timeout=15.0,
    )
    if certificate is not None:
        conf.certificate = certificate.certificate
        conf.private_key = certificate.private_key
    if is_client:
        conf.verify_mode = 0  # ssl.CERT_NONE: the server certificate is pinned by fingerprint instead
    return conf


SOCKET_BUFFER_BYTES = 4 * 1024 * 1024
"""A trunk receives bursts (a loop iteration's forwarded packets for many tracks at once): the kernel's default
UDP receive buffer (~200 KiB) overflows during a scheduling hiccup of a few milliseconds, and QUIC reads that
loss as congestion. Raising it past ``net.core.rmem_max`` needs CAP_NET_ADMIN (SO_RCVBUFFORCE); without it the
kernel caps the request, so set ``sysctl net.core.rmem_max`` on edges (docs/relay.md)."""


def grow_buffers(sock: socket.socket | None) -> None:
    if sock is None:
        return
    for force, plain in (
        (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF),
        (getattr(socket, "SO_SNDBUFFORCE", None), socket.SO_SNDBUF),
    ):
        try:
            if force is None:
                raise PermissionError
            sock.setsockopt(socket.SOL_SOCKET, force, SOCKET_BUFFER_BYTES)
        except OSError:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, plain, SOCKET_BUFFER_BYTES)


@dataclass(eq=False)
class Link:
    """One peer edge: its session and what the endpoint keeps for it."""

    endpoint: RelayEndpoint
    session: RelaySession
    addr: NetworkAddress
    on_event: Callable[[Link, RelayEvent], None] = lambda link, ev: None
    ready: asyncio.Future[RelayPeer] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    closed: bool = False
    timer: asyncio.TimerHandle | None = None
    timer_at: float | None = None

    def transmit(self) -> None:
        """Ask for this link's datagrams to go out at the end of this loop iteration."""
        self.endpoint.want_transmit(self)

    def close(self, error_code: int = 0, reason: str = "") -> None:
        self.session.close(error_code, reason)
        self.drain_events()
        self.transmit()

    def drain_events(self) -> None:
        while (ev := self.session.next_event()) is not None:
            if isinstance(ev, PeerReady) and not self.ready.done():
                self.ready.set_result(ev.peer)
            elif isinstance(ev, LinkClosed):
                self.closed = True
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(f"relay link refused: {ev.reason} ({ev.error_code:#x})"))
            try:
                self.on_event(self, ev)
            except Exception:  # one handler's failure must not stop the link's other events
                log.exception("relay event handler failed for %s", ev)


MAX_READ_BATCH = 256
"""Datagrams read per readiness event. asyncio's datagram transport reads one per event-loop wake-up; a trunk at
tens of thousands of packets per second spends less per packet when each wake-up drains what has arrived."""
MAX_SEND_BACKLOG = 4096
"""Datagrams kept while the socket's send buffer is full; beyond it they are dropped, as a full network would."""


@dataclass(eq=False)
class RelayEndpoint:
    """All relay links of one edge over one UDP socket, as client (``connect``) and as server. The socket is
    driven directly (``add_reader``, non-blocking ``sendto``): reads are batched per wake-up, and each loop
    iteration's datagrams go out in one pass."""

    identity_for: Callable[[], Hello]
    """Our current hello (the token is re-issued over time, so it is asked for per link)."""
    verifier: RelayTokenVerifier
    certificate: RelayCertificate
    on_link: Callable[[Link], None] = lambda link: None
    """A peer dialled us: set ``link.on_event`` here to hear its events."""
    max_links: int = 256
    links: dict[NetworkAddress, Link] = field(default_factory=dict)
    sock: socket.socket | None = None
    _dirty: set[Link] = field(default_factory=set)
    _flush_scheduled: bool = False
    _backlog: deque[tuple[bytes, NetworkAddress]] = field(default_factory=deque)

    # -- lifecycle --------------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> NetworkAddress:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        grow_buffers(sock)
        self.sock = sock
        asyncio.get_running_loop().add_reader(sock.fileno(), self._readable)
        return cast(NetworkAddress, sock.getsockname()[:2])

    async def connect(
        self,
        addr: NetworkAddress,
        *,
        expected_peer: str | None = None,
        pinned_fingerprint: str | None = None,
        on_event: Callable[[Link, RelayEvent], None] = lambda link, ev: None,
        timeout: float = 5.0,
    ) -> Link:
        """Dial a peer edge; returns once both sides authenticated (raises ``ConnectionError`` if refused)."""
        if addr in self.links and not self.links[addr].closed:
            return self.links[addr]
        quic = QuicConnection(configuration=relay_configuration(is_client=True))
        session = RelaySession(
            quic,
            self.identity_for(),
            self._verify,
            expected_peer=expected_peer,
            pinned_fingerprint=pinned_fingerprint,
        )
        link = Link(self, session, addr, on_event)
        self.links[addr] = link
        session.connect(addr, self._now())
        self._after_input(link)
        try:
            await asyncio.wait_for(asyncio.shield(link.ready), timeout)
        except BaseException:
            self._forget(link)
            link.session.close(0x103, "gave up")
            raise
        return link

    def close(self) -> None:
        for link in list(self.links.values()):
            link.close(0, "relay endpoint closing")
        self._flush()
        if self.sock is not None:
            loop = asyncio.get_running_loop()
            loop.remove_reader(self.sock.fileno())
            loop.remove_writer(self.sock.fileno())
            self.sock.close()
            self.sock = None

    # -- datagrams in ------------------------------------------------------------------------------------------

    def _readable(self) -> None:
        sock = self.sock
        if sock is None:
            return
        for _ in range(MAX_READ_BATCH):
            try:
                data, addr = sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # ICMP port unreachable from a dead peer surfaces here on Linux: its idle timeout ends the link.
                log.debug("relay socket error: %s", exc)
                continue
            self.datagram_received(data, cast(NetworkAddress, addr[:2]))

    def datagram_received(self, data: bytes, addr: NetworkAddress) -> None:
        link = self.links.get(addr)
        if link is None or link.closed:
            link = self._accept(data, addr)
            if link is None:
                return
        link.session.receive_datagram(data, addr, self._now())
        self._after_input(link)

    def _accept(self, data: bytes, addr: NetworkAddress) -> Link | None:
        if len(data) < SMALLEST_INITIAL or len(self.links) >= self.max_links:
            return None
        conf = relay_configuration(is_client=False, certificate=self.certificate)
        try:
            header = pull_quic_header(Buffer(data=data), host_cid_length=conf.connection_id_length)
        except ValueError:
            return None
        if header.packet_type != QuicPacketType.INITIAL or header.version not in conf.supported_versions:
            return None
        quic = QuicConnection(configuration=conf, original_destination_connection_id=header.destination_cid)
        link = Link(self, RelaySession(quic, self.identity_for(), self._verify), addr)
        self.links[addr] = link
        self.on_link(link)
        return link

    def _verify(self, token: str) -> RelayPeer:
        return self.verifier.verify(token, time.time())

    # -- timers and datagrams out --------------------------------------------------------------------------

    def _after_input(self, link: Link) -> None:
        link.drain_events()
        self.want_transmit(link)

    def want_transmit(self, link: Link) -> None:
        self._dirty.add(link)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        dirty, self._dirty = self._dirty, set()
        now = self._now()
        for link in dirty:
            self._send(link, now)

    def _send(self, link: Link, now: float) -> None:
        if self.sock is None:
            return
        for data, addr in link.session.datagrams_to_send(now):
            self._sendto(data, addr)
        self._arm(link)
        if link.closed and link.session.get_timer() is None:
            self._forget(link)

    def _sendto(self, data: bytes, addr: NetworkAddress) -> None:
        assert self.sock is not None
        if self._backlog:
            self._queue(data, addr)
            return
        try:
            self.sock.sendto(data, addr)
        except (BlockingIOError, InterruptedError):
            self._queue(data, addr)
            asyncio.get_running_loop().add_writer(self.sock.fileno(), self._writable)
        except OSError as exc:
            log.debug("relay send to %s failed: %s", addr, exc)  # e.g. unreachable: QUIC's loss recovery copes

    def _queue(self, data: bytes, addr: NetworkAddress) -> None:
        if len(self._backlog) < MAX_SEND_BACKLOG:
            self._backlog.append((data, addr))

    def _writable(self) -> None:
        sock = self.sock
        if sock is None:
            return
        while self._backlog:
            data, addr = self._backlog[0]
            try:
                sock.sendto(data, addr)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("relay send to %s failed: %s", addr, exc)
            self._backlog.popleft()
        asyncio.get_running_loop().remove_writer(sock.fileno())

    def _arm(self, link: Link) -> None:
        at = link.session.get_timer()
        if at == link.timer_at:
            return
        if link.timer is not None:
            link.timer.cancel()
            link.timer = None
        link.timer_at = at
        if at is not None:
            loop = asyncio.get_running_loop()
            link.timer = loop.call_at(max(at, loop.time()), self._on_timer, link)

    def _on_timer(self, link: Link) -> None:
        link.timer = None
        link.timer_at = None
        link.session.handle_timer(self._now())
        link.drain_events()
        self._send(link, self._now())

    def _forget(self, link: Link) -> None:
        if self.links.get(link.addr) is link:
            del self.links[link.addr]
        if link.timer is not None:
            link.timer.cancel()
        with contextlib.suppress(Exception):
            self._dirty.discard(link)

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()
