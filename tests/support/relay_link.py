"""Two relay sessions joined in memory: datagrams move between them on a simulated clock, optionally lost,
reordered or duplicated (a seeded ``random.Random``, so a failure repeats)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from relay.auth import RelayPeer, RelayTokenVerifier, issue_relay_token
from relay.certs import self_signed
from relay.frames import Hello
from relay.session import ALPN, MAX_DATAGRAM_FRAME_SIZE, RelayEvent, RelaySession
from relay.trunk import TrunkQueue

CLIENT_ADDR = ("10.0.0.1", 4433)
SERVER_ADDR = ("10.0.0.2", 4433)
T0 = 1_800_000_000.0
"""The simulated clock starts here (token times are checked against it)."""


@dataclass
class Keys:
    """The API's signing key (relay tokens) and a verifier edges would build from its public half."""

    api: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def token(self, edge_id: str, region: str = "eu", *, now: float = T0, ttl_s: int = 600) -> str:
        return issue_relay_token(self.api, edge_id, region, now=now, ttl_s=ttl_s)

    def verifier(self, now: float = T0) -> Callable[[str], RelayPeer]:
        """Verifies at ``now`` (the simulated clock's start; tokens live for minutes, tests for less)."""
        verifier = RelayTokenVerifier(self.api.public_key())
        return lambda token: verifier.verify(token, now)


def configuration(*, is_client: bool, max_datagram_size: int = 1452) -> QuicConfiguration:
    return QuicConfiguration(
        is_client=is_client,
        alpn_protocols=[ALPN],
        max_datagram_frame_size=MAX_DATAGRAM_FRAME_SIZE,
        max_datagram_size=max_datagram_size,
        idle_timeout=30.0,
    )


@dataclass
class Pair:
    client: RelaySession
    server: RelaySession
    now: float = T0
    loss: float = 0.0
    reorder: float = 0.0
    duplicate: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    client_events: list[RelayEvent] = field(default_factory=list)
    server_events: list[RelayEvent] = field(default_factory=list)
    wire_datagrams: int = 0

    def pump(self, rounds: int = 50, step: float = 0.005) -> None:
        """Exchange datagrams for ``rounds`` steps of ``step`` seconds (timers fire as the clock passes them)."""
        for _ in range(rounds):
            self._move(self.client, self.server, CLIENT_ADDR)
            self._move(self.server, self.client, SERVER_ADDR)
            self.now += step
            for s in (self.client, self.server):
                timer = s.get_timer()
                if timer is not None and timer <= self.now:
                    s.handle_timer(self.now)
            self._collect()

    def _move(self, src: RelaySession, dst: RelaySession, src_addr: tuple[str, int]) -> int:
        out = [d for d, _ in src.datagrams_to_send(self.now)]
        self.wire_datagrams += len(out)
        delivered: list[bytes] = []
        for d in out:
            if self.rng.random() < self.loss:
                continue
            delivered.append(d)
            if self.rng.random() < self.duplicate:
                delivered.append(d)
        if self.reorder and len(delivered) > 1 and self.rng.random() < self.reorder:
            self.rng.shuffle(delivered)
        for d in delivered:
            dst.receive_datagram(d, src_addr, self.now)
        return len(out)

    def _collect(self) -> None:
        for s, sink in ((self.client, self.client_events), (self.server, self.server_events)):
            while (ev := s.next_event()) is not None:
                sink.append(ev)


def pair(
    keys: Keys | None = None,
    *,
    client_token: str | None = None,
    server_token: str | None = None,
    expected_peer: str | None = "edge-b",
    pin: str | None = "auto",
    max_datagram_size: int = 1452,
    queue_packets: int | None = None,
    max_in_flight: int = 32,
    connect: bool = True,
) -> Pair:
    """Edge ``edge-a`` (client, region eu) dialling ``edge-b`` (server, region us), tokens from ``keys``."""
    keys = keys or Keys()
    cert = self_signed("edge-b")
    server_conf = configuration(is_client=False, max_datagram_size=max_datagram_size)
    server_conf.certificate = cert.certificate
    server_conf.private_key = cert.private_key
    client_conf = configuration(is_client=True, max_datagram_size=max_datagram_size)
    client_conf.verify_mode = 0  # ssl.CERT_NONE: the certificate is pinned by fingerprint instead
    client_quic = QuicConnection(configuration=client_conf)
    server_quic = QuicConnection(
        configuration=server_conf, original_destination_connection_id=client_quic.original_destination_connection_id
    )
    verifier = keys.verifier()
    client = RelaySession(
        client_quic,
        Hello("edge-a", "eu", client_token if client_token is not None else keys.token("edge-a", "eu")),
        verifier,
        expected_peer=expected_peer,
        pinned_fingerprint=cert.fingerprint if pin == "auto" else pin,
        max_in_flight=max_in_flight,
    )
    server = RelaySession(
        server_quic,
        Hello("edge-b", "us", server_token if server_token is not None else keys.token("edge-b", "us")),
        verifier,
        max_in_flight=max_in_flight,
    )
    if queue_packets is not None:  # each side its own queue, of this size
        client.queue = TrunkQueue(max_packets=queue_packets)
        server.queue = TrunkQueue(max_packets=queue_packets)
    p = Pair(client, server)
    if connect:  # else the test drives the client's QuicConnection itself
        client.connect(SERVER_ADDR, p.now)
    return p
