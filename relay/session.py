"""One relay link, sans-I/O: a :class:`aioquic.quic.connection.QuicConnection` plus the relay's control protocol,
authentication and bounded media queue.

Like ``QuicConnection`` itself it never touches a socket or a clock: the I/O adapter (``relay/protocol.py``)
passes received UDP datagrams and the time in, sends what :meth:`RelaySession.datagrams_to_send` returns, arms a
timer at :meth:`get_timer`, and reads :meth:`next_event`. Tests move datagrams between two sessions in memory.

The link, in order:

1. QUIC handshake (TLS 1.3, ALPN ``meetmesh-relay/1``, DATAGRAM support, RFC 9221 section 3). A client that was
   given the server's certificate fingerprint (the API publishes it with the edge's relay address) checks it.
2. ``hello`` each way on the control stream (stream 0, RFC 9000 section 2.1: the client's first bidirectional
   stream): the client's first, then the server's once the client's relay token verified. A bad token closes
   the link with :data:`UNAUTHENTICATED`; nothing else is accepted before it (control messages or media).
3. Tracks: each side ``announce``s what it can forward, numbered on its side; the other ``subscribe``s to what
   its local participants need, naming the simulcast layers; :meth:`send_media` sends only subscribed tracks and
   wanted layers, so the link carries one copy of each stream the far edge needs and nothing else. Key frame
   requests and NACKs travel back as control messages; RTCP datagrams carry sender reports of announced tracks.
4. Media waits in a :class:`relay.trunk.TrunkQueue`, not in aioquic's unbounded datagram deque: aioquic is handed
   at most ``max_in_flight`` datagrams at a time, so under congestion the ranking decides what is dropped.
"""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aioquic.quic import events as quic_events
from aioquic.quic.connection import NetworkAddress, QuicConnection
from cryptography.hazmat.primitives.serialization import Encoding

from relay.auth import RelayAuthError, RelayPeer
from relay.frames import (
    MAX_ESTIMATE_BPS,
    Announce,
    Bye,
    ControlMessage,
    ControlReader,
    Estimate,
    FrameError,
    Hello,
    KeyFrameRequest,
    MediaHeader,
    Nack,
    Stats,
    Subscribe,
    Unsubscribe,
    Withdraw,
    decode_media,
    encode_control,
    encode_media,
)
from relay.trunk import TrunkQueue, rank

log = logging.getLogger("meetmesh.relay.session")

ALPN = "meetmesh-relay/1"
CONTROL_STREAM = 0
MAX_DATAGRAM_FRAME_SIZE = 65536
"""Advertised in the transport parameters (RFC 9221 section 3); a frame must still fit one QUIC packet."""
DATAGRAM_OVERHEAD = 64
"""Short header, connection id (up to 20), packet number, AEAD tag and the DATAGRAM frame's own header: what a
media datagram may not use of ``max_datagram_size``. aioquic keeps a datagram that does not fit at the head of
its queue for ever, blocking every later one, so oversized media is refused before it gets there."""
MAX_TRACKS_PER_LINK = 10_000

# Application error codes (RFC 9000 section 20.2: the application's own space).
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x101
UNAUTHENTICATED = 0x102
GOING_AWAY = 0x103

Verifier = Callable[[str], RelayPeer]
"""Checks a peer's relay token against the wall clock (e.g. ``lambda t: verifier.verify(t, time.time())``): QUIC's
``now`` is a monotonic clock, token times are not, so the session does not pass its own."""


# -- events ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeerReady:
    peer: RelayPeer


@dataclass(frozen=True, slots=True)
class TrackAnnounced:
    announce: Announce


@dataclass(frozen=True, slots=True)
class TrackWithdrawn:
    track: int


@dataclass(frozen=True, slots=True)
class SubscriptionChanged:
    """The peer wants ``layers`` of our ``track`` (empty: nothing any more)."""

    track: int
    layers: frozenset[int]


@dataclass(frozen=True, slots=True)
class KeyFrameRequested:
    track: int
    layer: int


@dataclass(frozen=True, slots=True)
class EstimateReceived:
    """The peer's downlink estimate for one of our tracks it pulls (``relay.frames.Estimate``)."""

    track: int
    bitrate_bps: float


@dataclass(frozen=True, slots=True)
class NackReceived:
    track: int
    seqs: tuple[int, ...]
    layer: int = 0


@dataclass(frozen=True, slots=True)
class MediaReceived:
    header: MediaHeader
    packet: bytes


@dataclass(frozen=True, slots=True)
class PeerStats:
    stats: Stats


@dataclass(frozen=True, slots=True)
class LinkClosed:
    error_code: int
    reason: str


RelayEvent = (
    PeerReady
    | TrackAnnounced
    | TrackWithdrawn
    | SubscriptionChanged
    | KeyFrameRequested
    | NackReceived
    | EstimateReceived
    | MediaReceived
    | PeerStats
    | LinkClosed
)


@dataclass(slots=True)
class LinkCounters:
    media_sent: int = 0
    media_received: int = 0
    not_wanted: int = 0
    """send_media calls for tracks or layers the peer did not subscribe to (normal: they are not sent)."""
    too_big: int = 0
    unknown_track: int = 0
    before_auth: int = 0
    """Datagrams that arrived before the peer authenticated (dropped)."""


class _Unpaced:
    """Stands in for aioquic's packet pacer (``QuicPacketRecovery._pacer``). A relay trunk sends each loop
    iteration's forwarded packets as one burst of at most ``max_in_flight`` datagrams, bounded by our queue and
    still by the congestion window; pacing them out again in 16-packet buckets costs a timer hop on the event
    loop per bucket and held a link near 10,000 packets/s in the relay bench, below one busy meeting's rate."""

    def next_send_time(self, now: float) -> float | None:
        return None

    def update_after_send(self, now: float) -> None:
        return None

    def update_rate(self, congestion_window: int, smoothed_rtt: float) -> None:
        return None


@dataclass(slots=True)
class RelaySession:
    quic: QuicConnection
    identity: Hello
    """What we present: our edge id, region and relay token."""
    verifier: Verifier
    expected_peer: str | None = None
    """Client side: the edge id we meant to reach (its token must name it)."""
    pinned_fingerprint: str | None = None
    """Client side: SHA-256 (hex) of the server certificate's DER, as the API published it."""
    max_in_flight: int = 32
    queue: TrunkQueue = field(default_factory=TrunkQueue)
    counters: LinkCounters = field(default_factory=LinkCounters)
    peer: RelayPeer | None = None
    local_tracks: dict[int, Announce] = field(default_factory=dict)
    """What we announced, by our number."""
    peer_wants: dict[int, frozenset[int]] = field(default_factory=dict)
    """Layers of our tracks the peer subscribed to."""
    peer_tracks: dict[int, Announce] = field(default_factory=dict)
    """What the peer announced, by its number."""
    subscriptions: dict[int, tuple[int, ...]] = field(default_factory=dict)
    """Our subscriptions to the peer's tracks."""
    _next_track: int = 0
    _events: deque[RelayEvent] = field(default_factory=deque)
    _reader: ControlReader = field(default_factory=ControlReader)
    _held: list[ControlMessage] = field(default_factory=list)
    """Control messages the local side sent before the peer was ready: sent once it is."""
    _closed: bool = False
    _close_reported: bool = False

    def __post_init__(self) -> None:
        self.quic._loss._pacer = _Unpaced()  # type: ignore[assignment]  # private: no public switch for it

    @property
    def is_client(self) -> bool:
        return self.quic.configuration.is_client

    @property
    def ready(self) -> bool:
        return self.peer is not None and not self._closed

    @property
    def max_media_size(self) -> int:
        return self.quic.configuration.max_datagram_size - DATAGRAM_OVERHEAD

    # -- driving the connection (the I/O adapter calls these) ---------------------------------------------

    def connect(self, addr: NetworkAddress, now: float) -> None:
        """Client: start the handshake and send our ``hello`` (it travels once the keys allow)."""
        self.quic.connect(addr, now)
        self._send_control(self.identity)

    def receive_datagram(self, data: bytes, addr: NetworkAddress, now: float) -> None:
        self.quic.receive_datagram(data, addr, now)
        self._drain()

    def handle_timer(self, now: float) -> None:
        self.quic.handle_timer(now)
        self._drain()

    def get_timer(self) -> float | None:
        return self.quic.get_timer()

    def datagrams_to_send(self, now: float) -> list[tuple[bytes, NetworkAddress]]:
        # aioquic's own DATAGRAM deque has no bound: keep it short and let the trunk queue rank the rest.
        pending = self.quic._datagrams_pending  # private: aioquic has no public view of it
        while len(pending) < self.max_in_flight and self.queue:
            data = self.queue.pop()
            assert data is not None
            self.quic.send_datagram_frame(data)
        return self.quic.datagrams_to_send(now)

    def next_event(self) -> RelayEvent | None:
        return self._events.popleft() if self._events else None

    def close(self, error_code: int = NO_ERROR, reason: str = "") -> None:
        """Close the link (QUIC CONNECTION_CLOSE carries ``reason``); :class:`LinkClosed` follows."""
        if self._closed:
            return
        self.quic.close(error_code=error_code, reason_phrase=reason[:200])
        self._closed = True
        self._report_closed(error_code, reason)

    def say_bye(self, reason: str = "") -> None:
        """Tell the peer we are going away (it stops pulling from us); close the link after a moment."""
        self._send_control(Bye(reason))

    # -- the local side's requests --------------------------------------------------------------------------

    def announce(
        self,
        meeting_id: str,
        participant_id: str,
        track_id: str,
        kind: str,
        source: str,
        layers: int = 1,
        origin: str | None = None,
        *,
        codec: str = "",
        audio_level_id: int = 0,
        room: str = "",
    ) -> int:
        """Offer a track to the peer; returns its number on this link. ``origin``: the edge its publisher is on
        (default: this one)."""
        number = self._next_track
        self._next_track += 1
        msg = Announce(
            number,
            meeting_id,
            participant_id,
            track_id,
            kind,
            source,
            layers,
            origin or self.identity.edge_id,
            codec,
            audio_level_id,
            room,
        )
        self.local_tracks[number] = msg
        self._send_control(msg)
        return number

    def withdraw(self, track: int) -> None:
        if self.local_tracks.pop(track, None) is not None:
            self.peer_wants.pop(track, None)
            self._send_control(Withdraw(track))

    def subscribe(self, track: int, layers: tuple[int, ...] = (0,)) -> None:
        """Ask for the peer's ``track`` (its number), only ``layers``."""
        if track not in self.peer_tracks:
            raise KeyError(f"the peer announced no track {track}")
        wanted = tuple(sorted(set(layers)))
        if self.subscriptions.get(track) != wanted:
            self.subscriptions[track] = wanted
            self._send_control(Subscribe(track, wanted))

    def unsubscribe(self, track: int) -> None:
        if self.subscriptions.pop(track, None) is not None:
            self._send_control(Unsubscribe(track))

    def request_key_frame(self, track: int, layer: int = 0) -> None:
        if track in self.subscriptions:
            self._send_control(KeyFrameRequest(track, layer))

    def nack(self, track: int, seqs: tuple[int, ...], layer: int = 0) -> None:
        if track in self.subscriptions and seqs:
            self._send_control(Nack(track, seqs[:256], layer))

    def estimate(self, track: int, bitrate_bps: float) -> None:
        """Tell the peer the most our subscribers of its ``track`` (one we pull) can take."""
        if track in self.subscriptions:
            self._send_control(Estimate(track, max(0.0, min(bitrate_bps, MAX_ESTIMATE_BPS))))

    def send_stats(self, sessions: int, forwarded_pps: float, cpu: float) -> None:
        self._send_control(Stats(sessions, forwarded_pps, cpu))

    def send_media(self, track: int, packet: bytes, *, layer: int = 0, key: bool = False, rtcp: bool = False) -> bool:
        """Queue one RTP (or, with ``rtcp``, sender-report RTCP) packet of our ``track`` for the peer. False when
        it is not sent: the peer does not want this track or layer, it is too big, or the queue dropped it."""
        wants = self.peer_wants.get(track)
        if not self.ready or not wants or (not rtcp and layer not in wants):
            self.counters.not_wanted += 1
            return False
        audio = self.local_tracks[track].kind == "audio"
        data = encode_media(MediaHeader(track, layer, key, rtcp, audio), packet)
        if len(data) > self.max_media_size:
            self.counters.too_big += 1
            return False
        if not self.queue.push(
            data, track=track, rank_=rank(audio=audio, rtcp=rtcp, key=key, layer=layer), layer=layer
        ):
            return False
        self.counters.media_sent += 1
        return True

    # -- what arrives ---------------------------------------------------------------------------------------

    def _drain(self) -> None:
        while (ev := self.quic.next_event()) is not None:
            if isinstance(ev, quic_events.HandshakeCompleted):
                self._check_certificate()
            elif isinstance(ev, quic_events.StreamDataReceived):
                self._on_stream(ev)
            elif isinstance(ev, quic_events.DatagramFrameReceived):
                self._on_datagram(ev.data)
            elif isinstance(ev, quic_events.ConnectionTerminated):
                self._closed = True
                self._report_closed(ev.error_code, ev.reason_phrase)

    def _check_certificate(self) -> None:
        if not self.is_client or self.pinned_fingerprint is None:
            return
        cert = self.quic.tls._peer_certificate  # private: aioquic has no accessor
        seen = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest() if cert is not None else ""
        if seen != self.pinned_fingerprint.lower():
            self._fail(UNAUTHENTICATED, "the relay peer's certificate is not the one published for it")

    def _on_stream(self, ev: quic_events.StreamDataReceived) -> None:
        if self._closed:
            return
        if ev.stream_id != CONTROL_STREAM:
            self._fail(PROTOCOL_ERROR, f"unexpected stream {ev.stream_id}: relay links use stream 0 only")
            return
        try:
            for msg in self._reader.feed(ev.data):
                self._on_control(msg)
                if self._closed:
                    return
        except FrameError as exc:
            self._fail(PROTOCOL_ERROR, str(exc))
            return
        if ev.end_stream and not self._closed:
            self._fail(PROTOCOL_ERROR, "the control stream ended")

    def _on_control(self, msg: ControlMessage) -> None:
        if self.peer is None:
            if not isinstance(msg, Hello):
                self._fail(UNAUTHENTICATED, f"{msg.TYPE} before hello")
                return
            self._on_hello(msg)
            return
        if isinstance(msg, Hello):
            self._fail(PROTOCOL_ERROR, "a second hello")
        elif isinstance(msg, Announce):
            if msg.track in self.peer_tracks or len(self.peer_tracks) >= MAX_TRACKS_PER_LINK:
                self._fail(PROTOCOL_ERROR, f"track {msg.track} announced twice, or too many tracks")
                return
            self.peer_tracks[msg.track] = msg
            self._events.append(TrackAnnounced(msg))
        elif isinstance(msg, Withdraw):
            if self.peer_tracks.pop(msg.track, None) is None:
                self._fail(PROTOCOL_ERROR, f"withdraw of unannounced track {msg.track}")
                return
            self.subscriptions.pop(msg.track, None)
            self._events.append(TrackWithdrawn(msg.track))
        elif isinstance(msg, Subscribe | Unsubscribe):
            # A request for a track we withdrew a moment ago crossed our withdraw: ignore it.
            if msg.track in self.local_tracks:
                layers = frozenset(msg.layers) if isinstance(msg, Subscribe) else frozenset()
                if layers:
                    self.peer_wants[msg.track] = layers
                else:
                    self.peer_wants.pop(msg.track, None)
                self.queue.drop_unwanted(msg.track, layers)
                self._events.append(SubscriptionChanged(msg.track, layers))
        elif isinstance(msg, KeyFrameRequest):
            if msg.track in self.peer_wants:
                self._events.append(KeyFrameRequested(msg.track, msg.layer))
        elif isinstance(msg, Nack):
            if msg.track in self.peer_wants:
                self._events.append(NackReceived(msg.track, msg.seqs, msg.layer))
        elif isinstance(msg, Estimate):
            if msg.track in self.peer_wants:
                self._events.append(EstimateReceived(msg.track, msg.bitrate_bps))
        elif isinstance(msg, Stats):
            self._events.append(PeerStats(msg))
        elif isinstance(msg, Bye):
            self.quic.close(error_code=NO_ERROR, reason_phrase=f"peer said bye: {msg.reason}"[:200])

    def _on_hello(self, msg: Hello) -> None:
        try:
            peer = self.verifier(msg.token)
        except RelayAuthError as exc:
            self._fail(UNAUTHENTICATED, str(exc))
            return
        if peer.edge_id != msg.edge_id:
            self._fail(UNAUTHENTICATED, "hello names another edge than its token")
            return
        if self.expected_peer is not None and peer.edge_id != self.expected_peer:
            self._fail(UNAUTHENTICATED, f"reached edge {peer.edge_id!r}, not {self.expected_peer!r}")
            return
        self.peer = peer
        if not self.is_client:
            self._write(self.identity)  # the server's hello answers a verified client only
        held, self._held = self._held, []
        for queued in held:
            self._write(queued)
        self._events.append(PeerReady(peer))

    def _on_datagram(self, data: bytes) -> None:
        if self.peer is None:
            self.counters.before_auth += 1
            return
        try:
            header, packet = decode_media(data)
        except FrameError as exc:
            self._fail(PROTOCOL_ERROR, str(exc))
            return
        if header.track not in self.peer_tracks:
            self.counters.unknown_track += 1  # withdrawn a moment ago, or a datagram overtook its announce
            return
        self.counters.media_received += 1
        self._events.append(MediaReceived(header, packet))

    # -- helpers --------------------------------------------------------------------------------------------

    def _send_control(self, msg: ControlMessage) -> None:
        if self._closed:
            return
        # Our hello goes at once; everything else waits until the peer has proved who it is.
        if isinstance(msg, Hello) or self.peer is not None:
            self._write(msg)
        else:
            self._held.append(msg)

    def _write(self, msg: ControlMessage) -> None:
        self.quic.send_stream_data(CONTROL_STREAM, encode_control(msg))

    def _fail(self, code: int, reason: str) -> None:
        log.warning("relay link closed (%#x): %s", code, reason)
        self.quic.close(error_code=code, reason_phrase=reason[:200])
        self._closed = True
        self._report_closed(code, reason)

    def _report_closed(self, code: int, reason: str) -> None:
        if not self._close_reported:
            self._close_reported = True
            self._events.append(LinkClosed(code, reason))
