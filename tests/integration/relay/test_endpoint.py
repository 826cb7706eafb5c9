"""Relay links over real UDP sockets on loopback: two edges' endpoints authenticate each other, carry a track
one way, and refuse a peer from another deployment."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from relay.auth import RelayTokenVerifier, issue_relay_token
from relay.certs import self_signed
from relay.frames import Hello
from relay.protocol import Link, RelayEndpoint
from relay.session import LinkClosed, MediaReceived, RelayEvent, SubscriptionChanged, TrackAnnounced

pytestmark = pytest.mark.timeout(30)


@dataclass
class Edge:
    name: str
    api_key: Ed25519PrivateKey
    events: list[RelayEvent] = field(default_factory=list)
    endpoint: RelayEndpoint | None = None
    addr: tuple[str, int] = ("", 0)

    async def start(self) -> Edge:
        self.cert = self_signed(self.name)

        def hello() -> Hello:
            return Hello(self.name, "r-" + self.name, issue_relay_token(self.api_key, self.name, "r", now=time.time()))

        self.endpoint = RelayEndpoint(hello, RelayTokenVerifier(self.api_key.public_key()), self.cert)
        self.endpoint.on_link = lambda link: setattr(link, "on_event", self.on_event)
        self.addr = await self.endpoint.start()
        return self

    def on_event(self, link: Link, ev: RelayEvent) -> None:
        self.events.append(ev)

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [e for e in self.events if isinstance(e, kind)]


async def _until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def _rtp(seq: int) -> bytes:
    return bytes((0x80, 96)) + seq.to_bytes(2, "big") + bytes(1100)


async def test_two_edges_link_and_a_track_flows_one_copy_per_packet() -> None:
    key = Ed25519PrivateKey.generate()
    a, b = await Edge("a", key).start(), await Edge("b", key).start()
    assert a.endpoint and b.endpoint
    try:
        link = await a.endpoint.connect(
            b.addr, expected_peer="b", pinned_fingerprint=b.cert.fingerprint, on_event=a.on_event
        )
        assert link.session.peer is not None and link.session.peer.edge_id == "b"
        await _until(lambda: b.addr and a.addr in b.endpoint.links and b.endpoint.links[a.addr].session.ready)
        b_link = b.endpoint.links[a.addr]
        cam = b_link.session.announce("m1", "ada", "ada-cam", "video", "camera")
        b_link.transmit()
        await _until(lambda: a.of(TrackAnnounced))
        link.session.subscribe(cam)
        link.transmit()
        await _until(lambda: b.of(SubscriptionChanged))
        for seq in range(2000):  # ~5,000 packets/s (a few HD streams) in bursts of 10, as a forwarder's batch
            b_link.session.send_media(cam, _rtp(seq))
            if seq % 10 == 9:
                b_link.transmit()
                await asyncio.sleep(0.002)
        b_link.transmit()
        try:
            await _until(lambda: len(a.of(MediaReceived)) >= 2000, timeout=10)
        except AssertionError:
            raise AssertionError(
                (len(a.of(MediaReceived)), b_link.session.queue.dropped, b_link.session.counters)
            ) from None
        seqs = [int.from_bytes(m.packet[2:4], "big") for m in a.of(MediaReceived)]
        assert sorted(seqs) == list(range(2000)) and not b_link.session.queue.dropped
    finally:
        a.endpoint.close()
        b.endpoint.close()


async def test_an_edge_of_another_deployment_is_refused_and_the_link_forgotten() -> None:
    ours, theirs = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    a, b = await Edge("a", theirs).start(), await Edge("b", ours).start()
    assert a.endpoint and b.endpoint
    try:
        with pytest.raises(ConnectionError):
            await a.endpoint.connect(b.addr, expected_peer="b")
        await _until(lambda: any(isinstance(e, LinkClosed) for e in b.events) or not b.endpoint.links)
        assert not any(link.session.ready for link in b.endpoint.links.values())
    finally:
        a.endpoint.close()
        b.endpoint.close()


async def test_datagrams_that_are_not_a_quic_initial_open_no_link() -> None:
    b = await Edge("b", Ed25519PrivateKey.generate()).start()
    assert b.endpoint
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for payload in (b"", b"hello", bytes(1300), b"\xc0" + bytes(1299), b"\x40" + bytes(1400)):
            sock.sendto(payload, b.addr)
        await asyncio.sleep(0.2)
        assert b.endpoint.links == {}
    finally:
        sock.close()
        b.endpoint.close()
