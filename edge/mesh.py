"""The edge's side of the relay mesh: tracks of a meeting cross to the other edges it spans, once per edge.

The API tells each registered edge which edges share each of its meetings (``MeetingEdges`` on the control
feed) and gives it a relay token (``RelayCredentials``). :class:`EdgeMesh` runs the edge's
:class:`relay.node.RelayNode` (one QUIC endpoint, one link per peer edge) and joins it to the rooms:

- **Local tracks go out.** A publisher's track is announced to the peers, with its room (the main room or a
  breakout room: the pulling edge offers it to that room's members only, so media never crosses rooms)
  (:meth:`EdgeMesh.publish_local`); its packets reach the node from :attr:`edge.rtp_hooks.PublishedTrack.on_relay`
  (after RTX unwrapping, never while paused), and the node sends them only to peers that subscribed.
- **Remote tracks come in as publishers.** An announced remote track becomes a
  :class:`edge.rtp_hooks.PublishedTrack` with no aiortc receiver: the same forwarder, the same subscribe path in
  the rooms (``Rooms.remote_published``). Its :class:`sfu.upstream.Upstream` is a :class:`RelayUpstream`, so key
  frame requests and NACKs of local subscribers cross the hop to the origin, which asks its publisher.
- **One copy per stream per edge.** The edge pulls a remote video track once while any local member
  subscribes to it (:meth:`EdgeMesh.sync_wants`), whatever their number; audio is pulled while anyone is in the
  room, because every edge runs the meeting's speaker detection on every microphone (so all edges name the same
  dominant speaker and the same last-N), and audio is cheap next to video.
- **Host controls hold across edges.** Every edge watching a meeting hears every ``ParticipantMedia``: a muted
  remote publisher's audio forwarder is paused here as well as at its origin, and a removed one's tracks leave
  the rooms at once (its origin then closes its session, which withdraws them everywhere).

- **Simulcast**: each layer crosses as a relay layer (the offer's RID order); the pulling edge's remote track is a
  simulcast group like a local one (its subscribers' layer selectors choose among the layers that arrive) and
  pulls only the smallest layer, the layers its subscribers take or are switching to, and the one above those
  (so a selector can see it and move up): a meeting of thumbnails never pulls the full-size layer across.

- **Sender reports cross**: about once a second the origin sends, per track (per simulcast layer), its
  publisher's NTP ↔ RTP pair extrapolated to that instant (:func:`sfu.rtcp.build_sender_report`, an RTCP datagram
  on the trunk). The pulling edge keeps it in the remote track's :class:`sfu.rtcp.SenderClock`, so its
  subscribers' SRs carry the publisher's clock and a remote participant's audio and video stay in sync (RFC 3550
  section 6.4.1); the edges below it in the tree get it too.

- **REMB across the hop**: about once a second each pulling edge sends what its subscribers of a (single-stream)
  video track can take (``relay.frames.Estimate``: the slowest local downlink and the edges below it); the origin
  folds the least fresh one into its publisher's REMB like a local subscriber's estimate.

- **NACKs**: a subscriber's NACK is answered from its down track's history on the pulling edge; what that lacks
  goes up the tree with its layer, to the origin, which asks the publisher (for that layer's stream).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edge.rtp_hooks import PUBLISH_FLOOR_BPS, PublishedTrack, SubscribedTrack, choose_layer
from edge.settings import Settings
from edge.simulcast import SimulcastOffer
from protocol.media_control import MeetingEdges, RelayCredentials
from relay.auth import RelayTokenVerifier
from relay.certs import self_signed
from relay.frames import Hello
from relay.mesh import TrackInfo
from relay.node import NodeHooks, Peer, RelayNode
from relay.protocol import RelayEndpoint
from sfu.forwarder import Forwarder, RtpFormatError, payload_offset
from sfu.h264 import h264_keyframe_start
from sfu.room import Room, TrackRef
from sfu.rtcp import SenderClock, build_sender_report, parse_sender_report
from sfu.vp8 import vp8_keyframe_start

log = logging.getLogger("meetmesh.edge.mesh")

_KEYFRAME_START: dict[str, Callable[[bytes, int], bool]] = {
    "video/vp8": vp8_keyframe_start,
    "video/h264": h264_keyframe_start,
}
"""Key frame packets are marked on the trunk: under congestion it drops video deltas before them."""


class MeshRooms(Protocol):
    """What the mesh tells the rooms (``edge.rooms.Rooms``)."""

    def remote_published(
        self, meeting_id: str, room: str | None, track: TrackRef, published: PublishedTrack
    ) -> None: ...

    def remote_unpublished(self, meeting_id: str, room: str | None, track: TrackRef) -> None: ...


@dataclass(slots=True)
class RelayUpstream:
    """:class:`sfu.upstream.Upstream` of a remote track: requests go to the edge it is pulled from."""

    node: RelayNode
    track_id: str
    layer: int = 0
    keyframe_requests: int = 0
    nacks: int = 0

    def request_keyframe(self, media_ssrc: int) -> None:
        self.keyframe_requests += 1
        self.node.request_key_frame(self.track_id, self.layer)

    def send_nack(self, media_ssrc: int, seqs: Sequence[int]) -> None:
        self.nacks += 1
        self.node.nack(self.track_id, tuple(seqs), self.layer)

    def send_remb(self, bitrate_bps: float, media_ssrcs: Sequence[int]) -> None:
        # The origin asks its publisher for what its own subscribers take; this edge's subscribers are served
        # at whatever rate arrives (their own downlinks are protected by the per-subscriber layer choice).
        return


@dataclass(eq=False)
class LocalTrack:
    track_id: str
    meeting_id: str
    ref: TrackRef
    published: PublishedTrack
    room: str | None = None
    """Its breakout room (None: the main room)."""
    relayed: int = 0
    """Packets handed to the node (each goes once to each peer that subscribed)."""
    peer_limits: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Per peer pulling it: (its estimate in bit/s, when it came)."""


@dataclass(eq=False)
class RemoteTrack:
    info: TrackInfo
    ref: TrackRef
    published: PublishedTrack
    received: int = 0
    """Packets that arrived over the trunk."""
    received_by_layer: dict[int, int] = field(default_factory=dict)
    wanted: frozenset[int] = frozenset()
    hidden: bool = False
    peer_limits: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Per edge below this one in the track's tree: (its estimate in bit/s, when it came)."""
    """Its publisher was removed: not offered to the rooms."""


@dataclass(eq=False)
class EdgeMesh:
    settings: Settings
    credentials: Callable[[], RelayCredentials | None]
    """The latest relay token the API issued this edge (the control feed keeps it)."""
    rooms: MeshRooms | None = None
    node: RelayNode | None = None
    endpoint: RelayEndpoint | None = None
    relay_addr: str = ""
    """``host:port`` other edges dial (empty until started)."""
    local: dict[str, LocalTrack] = field(default_factory=dict)
    remote: dict[str, RemoteTrack] = field(default_factory=dict)
    keyframes_for_peers: int = 0
    """Key frame requests that came over a link for this edge's own tracks (each asks the publisher)."""
    nacks_for_peers: int = 0
    _audio_blocked: set[tuple[str, str]] = field(default_factory=set)
    _removed: set[tuple[str, str]] = field(default_factory=set)
    _pending: dict[str, MeetingEdges] = field(default_factory=dict)
    _ticker: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.certificate = self_signed(self.settings.registry_id)

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint

    # -- lifecycle ----------------------------------------------------------------------------------------------

    async def start(self, api_key: Ed25519PublicKey) -> None:
        """Open the relay socket; ``api_key`` verifies peers' relay tokens (the API signs them with its join key)."""
        s = self.settings
        endpoint = RelayEndpoint(self._hello, RelayTokenVerifier(api_key), self.certificate)
        host, port = await endpoint.start(s.relay_host, s.relay_port)
        self.endpoint = endpoint
        self.relay_addr = s.relay_public_addr or f"{host}:{port}"
        hooks = NodeHooks(
            remote_track=self._remote_track,
            remote_track_gone=self._remote_track_gone,
            remote_packet=self._remote_packet,
            remote_rtcp=self._remote_rtcp,
            key_frame_wanted=self._key_frame_wanted,
            nack=self._nack,
            estimate=self._estimate,
        )
        self.node = RelayNode(endpoint, s.registry_id, fanout=s.relay_fanout, hooks=hooks)
        for track in self.local.values():
            self._announce(track)
        pending, self._pending = self._pending, {}
        for msg in pending.values():
            self.set_meeting_edges(msg)
        self._ticker = asyncio.create_task(self._follow_layers(), name="relay-layers")
        log.info("relay endpoint on %s (fingerprint %s…)", self.relay_addr, self.fingerprint[:16])

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self.endpoint is not None:
            self.endpoint.close()
            self.endpoint = None

    def _hello(self) -> Hello:
        creds = self.credentials()
        return Hello(self.settings.registry_id, self.settings.region, creds.token if creds is not None else "")

    # -- membership -----------------------------------------------------------------------------------------------

    def set_meeting_edges(self, msg: MeetingEdges) -> None:
        """The API's list of the meeting's edges: link to them (or drop links to edges no meeting shares any
        more: a dead edge leaves the lists when its registration expires)."""
        node = self.node
        if node is None:
            self._pending[msg.meeting_id] = msg
            return
        peers = [Peer(e.edge_id, e.relay_addr, e.relay_fingerprint) for e in msg.edges]
        node.set_meeting_edges(msg.meeting_id, peers)
        self._drop_strangers()

    def leave_meeting(self, meeting_id: str) -> None:
        """Nobody is here for ``meeting_id`` any more: stop pulling and announcing its tracks."""
        self._pending.pop(meeting_id, None)
        if self.node is not None and meeting_id in self.node.router.edges:
            self.node.set_meeting_edges(meeting_id, [])
            self._drop_strangers()

    def _drop_strangers(self) -> None:
        node = self.node
        assert node is not None
        sharing = node.meeting_peers()
        for peer in [p for p in node.links if p not in sharing]:
            node.drop_peer(peer)

    # -- local tracks ---------------------------------------------------------------------------------------------

    def publish_local(self, meeting_id: str, room: str | None, ref: TrackRef, published: PublishedTrack) -> None:
        """A local publisher's track started in ``room`` (None: the main room): offer it to the meeting's edges."""
        if published.codec is None:
            return
        track_id = f"{self.settings.registry_id}~{ref.publisher_id}~{ref.mid}~{secrets.token_hex(3)}"
        track = self.local[track_id] = LocalTrack(track_id, meeting_id, ref, published, room)
        if self.node is not None:
            self._announce(track)

    def _announce(self, track: LocalTrack) -> None:
        node = self.node
        assert node is not None
        published, track_id = track.published, track.track_id
        assert published.codec is not None
        mime = published.codec.mimeType
        is_key = _KEYFRAME_START.get(mime.lower())
        forward = node.forward

        def relay(layer: int) -> Callable[[bytes], None]:
            def on_relay(packet: bytes) -> None:  # per packet: one parse for the key flag at most
                track.relayed += 1
                key = False
                if is_key is not None:
                    try:
                        key = is_key(packet, payload_offset(packet))
                    except RtpFormatError:
                        return
                forward(track_id, packet, layer=layer, key=key)

            return on_relay

        layers = 1
        offer = published.simulcast
        if offer is None:
            published.on_relay = relay(0)
        else:
            # Simulcast: layer i is the offer's i-th RID (browsers list them smallest first); each layer crosses
            # only to peers that asked for it.
            rids = offer.rids
            layers = len(rids)
            published.relay_layer = lambda rid: relay(rids.index(rid))
            for rid, layer in published.layers.items():
                layer.on_relay = relay(rids.index(rid))
        ref = track.ref
        node.publish(
            TrackInfo(
                track_id,
                track.meeting_id,
                self.settings.registry_id,
                ref.publisher_id,
                ref.kind,
                ref.source,
                layers,
                mime,
                published.audio_level_id or 0,
                track.room or "",
            )
        )

    def unpublish_local(self, meeting_id: str, ref: TrackRef) -> None:
        for track_id, track in list(self.local.items()):
            if track.meeting_id == meeting_id and track.ref == ref:
                self._withdraw(track_id)

    def unpublish_participant(self, meeting_id: str, participant_id: str) -> None:
        for track_id, track in list(self.local.items()):
            if track.meeting_id == meeting_id and track.ref.publisher_id == participant_id:
                self._withdraw(track_id)

    def _withdraw(self, track_id: str) -> None:
        track = self.local.pop(track_id)
        track.published.on_relay = None
        track.published.relay_layer = None
        for layer in track.published.layers.values():
            layer.on_relay = None
        if self.node is not None:
            self.node.unpublish(track_id)

    def _key_frame_wanted(self, track_id: str, layer: int) -> None:
        track = self.local.get(track_id)
        if track is None:
            return
        self.keyframes_for_peers += 1
        published = track.published
        if published.simulcast is not None:
            rids = published.simulcast.rids
            target = published.layers.get(rids[layer]) if layer < len(rids) else None
            if target is not None:
                target.request_keyframe()
            return
        published.request_keyframe()  # throttled per track, like a local subscriber's PLI

    def _nack(self, track_id: str, seqs: tuple[int, ...], layer: int) -> None:
        """Packets lost behind a peer that no history on the way held: the publisher resends them (a simulcast
        layer's own stream: sequence numbers are per layer)."""
        track = self.local.get(track_id)
        if track is None:
            return
        published = track.published
        if published.simulcast is not None:
            rids = published.simulcast.rids
            target = published.layers.get(rids[layer]) if layer < len(rids) else None
            if target is None:
                return
            published = target
        self.nacks_for_peers += 1
        published.request_retransmission(list(seqs))

    # -- remote tracks --------------------------------------------------------------------------------------------

    def remote_refs(self, meeting_id: str, room: str | None) -> list[tuple[TrackRef, PublishedTrack]]:
        """The remote tracks a room that opens here takes in: its meeting's, published in the same room."""
        return [
            (t.ref, t.published)
            for t in self.remote.values()
            if t.info.meeting_id == meeting_id and t.info.room == (room or "") and not t.hidden
        ]

    def _remote_track(self, info: TrackInfo) -> None:
        if not info.codec or info.kind not in ("audio", "video"):
            log.warning("remote track %s has no codec; not offered", info.track_id)
            return
        audio = info.kind == "audio"
        codec = RTCRtpCodecParameters(
            mimeType=info.codec, clockRate=48_000 if audio else 90_000, channels=2 if audio else None
        )
        simulcast = info.layers > 1 and not audio
        published = PublishedTrack(
            receiver=None,
            rtcp_ssrc=0,
            forwarder=None if simulcast else Forwarder(source_ssrc=0),
            codec=codec,
            audio_level_id=info.audio_level_id or None,
            simulcast=SimulcastOffer("", tuple(str(i) for i in range(info.layers)), 0) if simulcast else None,
            clock=None if simulcast else SenderClock(codec.clockRate),
        )
        assert self.node is not None
        published.upstream = RelayUpstream(self.node, info.track_id)
        published.ready.set()
        if simulcast:
            published._start(published._run_group())  # re-measures the layers as their packets arrive
        # The track id names the origin edge: a participant who moves edges (failover) is a new publisher there.
        ref = TrackRef(info.participant_id, info.track_id, info.kind, info.source)
        key = (info.meeting_id, info.participant_id)
        track = self.remote[info.track_id] = RemoteTrack(info, ref, published, hidden=key in self._removed)
        if audio and key in self._audio_blocked and published.forwarder is not None:
            published.forwarder.paused = True
        if self.rooms is not None and not track.hidden:
            self.rooms.remote_published(info.meeting_id, info.room or None, ref, published)

    def _remote_track_gone(self, track_id: str) -> None:
        track = self.remote.pop(track_id, None)
        if track is None:
            return
        for task in track.published._tasks:
            task.cancel()
        if self.rooms is not None and not track.hidden:
            self.rooms.remote_unpublished(track.info.meeting_id, track.info.room or None, track.ref)

    def _remote_packet(self, track_id: str, layer: int, key: bool, packet: bytes) -> None:
        track = self.remote.get(track_id)
        if track is None or len(packet) < 12:
            return
        track.received += 1
        track.received_by_layer[layer] = track.received_by_layer.get(layer, 0) + 1
        ssrc = int.from_bytes(packet[8:12], "big")
        published = track.published
        if published.simulcast is not None:
            target = published.layers.get(str(layer))
            if target is None or target.forwarder is None or target.forwarder.source_ssrc != ssrc:
                target = self._remote_layer(track, layer, ssrc)
            target.handle_packet(packet, ssrc)
            return
        forwarder = published.forwarder
        if forwarder is not None and forwarder.source_ssrc != ssrc:
            forwarder.source_ssrc = ssrc  # the first packet (or the publisher restarted its stream)
        published.handle_packet(packet, ssrc)

    def _remote_layer(self, track: RemoteTrack, index: int, ssrc: int) -> PublishedTrack:
        """A layer of a remote simulcast track started arriving (as ``PublishedTrack.add_layer`` for a local one)."""
        group, rid = track.published, str(index)
        assert self.node is not None
        assert group.codec is not None
        layer = PublishedTrack(
            receiver=None,
            rtcp_ssrc=0,
            forwarder=Forwarder(source_ssrc=ssrc),
            codec=group.codec,
            rid=rid,
            group=group,
            clock=SenderClock(group.codec.clockRate),
        )
        layer.upstream = RelayUpstream(self.node, track.info.track_id, index)
        layer.ready.set()
        old = group.layers.get(rid)
        group.layers[rid] = layer
        now = time.monotonic()
        layer.last_packet_at = now
        if old is not None and old.forwarder is not None:
            old.forwarder.down_tracks.clear()  # its subscribers re-start on the new stream at a key frame
        group.refresh_layers(now)
        for subscribed in group.subscribers:
            if subscribed.source is None or subscribed.source is old:
                choose_layer(subscribed, None, now)
        return layer

    def _estimate(self, track_id: str, peer: str, bitrate_bps: float) -> None:
        """A peer pulling one of our tracks (or one we pass down) says what its subscribers can take."""
        track = self.local.get(track_id) or self.remote.get(track_id)
        if track is None:
            return
        track.peer_limits[peer] = (bitrate_bps, time.monotonic())
        if isinstance(track, LocalTrack):
            track.published.remote_limit_bps = _least(track.peer_limits, time.monotonic())

    def _exchange_estimates(self, now: float) -> None:
        """REMB across the hop: each pulled (single-stream) video track's limit goes to the edge it comes from - the
        slowest of this edge's subscribers and of the edges below it, as a local publisher's REMB would be - and
        estimates that stopped coming (a peer that unsubscribed or died) stop counting. Simulcast tracks are
        adapted per subscriber by layer, never by slowing the publisher, as on one edge."""
        node = self.node
        if node is None:
            return
        for local in self.local.values():
            local.published.remote_limit_bps = _least(local.peer_limits, now)
        for track in self.remote.values():
            published, forwarder = track.published, track.published.forwarder
            if track.ref.kind != "video" or published.simulcast is not None or forwarder is None or not track.wanted:
                continue
            ceiling = published.publish_ceiling_bps
            below = _least(track.peer_limits, now)
            if below is not None:
                ceiling = min(ceiling, below)
            node.estimate(track.info.track_id, forwarder.publish_limit_bps(PUBLISH_FLOOR_BPS, ceiling))

    def _remote_rtcp(self, track_id: str, layer: int, packet: bytes) -> None:
        """The origin's sender report for a track (or one simulcast layer) this edge pulls: its publisher's clock."""
        track = self.remote.get(track_id)
        report = parse_sender_report(packet)
        if track is None or report is None:
            return
        ssrc, ntp, rtp = report
        published = track.published
        target = published.layers.get(str(layer)) if published.simulcast is not None else published
        forwarder = target.forwarder if target is not None else None
        # Only for the stream now arriving: a report for a stream the publisher restarted would map the new
        # stream's timestamps with the old one's clock.
        if target is not None and forwarder is not None and forwarder.source_ssrc == ssrc:
            target.sender_report_received(ntp, rtp, time.monotonic())

    def _send_sender_reports(self, now: float) -> None:
        """Each local track's (and simulcast layer's) publisher clock, to the peers that pull it."""
        node = self.node
        if node is None:
            return
        for track in self.local.values():
            published = track.published
            rids = published.simulcast.rids if published.simulcast is not None else None
            sources = (
                [(0, published)]
                if rids is None
                else [(rids.index(rid), layer) for rid, layer in published.layers.items() if rid in rids]
            )
            for layer, source in sources:
                clock, forwarder = source.clock, source.forwarder
                pair = clock.at(now) if clock is not None else None
                if pair is not None and forwarder is not None:
                    packet = build_sender_report(forwarder.source_ssrc, *pair)
                    node.forward(track.track_id, packet, layer=layer, rtcp=True)

    def _layers_needed(self, track: RemoteTrack) -> frozenset[int]:
        """The layers of a remote simulcast track to pull: the smallest (every first picture comes from it, and
        it is the fallback under congestion), each local subscriber's current or pending layer, and the one above
        the largest of those, so a subscriber's layer selector sees it active and can move up."""
        group = track.published
        top = track.info.layers - 1
        chosen = {0}
        for subscribed in group.subscribers:
            for layer in (subscribed.source, _pending_layer(group, subscribed)):
                if layer is not None and layer.rid is not None and layer.rid.isdecimal():
                    chosen.add(int(layer.rid))
        chosen.add(min(max(chosen) + 1, top))
        return frozenset(chosen)

    async def _follow_layers(self) -> None:
        """Subscribers' layer choices change with their bandwidth and rendered size (each session's adaptation
        tick): follow them in what is pulled."""
        ticks = 0
        while True:
            await asyncio.sleep(0.5)
            node = self.node
            if node is None:
                continue
            ticks += 1
            if ticks % 2 == 0:
                now = time.monotonic()
                self._send_sender_reports(now)
                self._exchange_estimates(now)
            for track in list(self.remote.values()):
                if track.published.simulcast is None or not track.wanted:
                    continue
                layers = self._layers_needed(track)
                if layers != track.wanted:
                    track.wanted = layers
                    node.want(track.info.track_id, layers)

    def sync_wants(self, meeting_id: str, policy: Room) -> None:
        """Pull each remote track of a room (``policy``: the main room's or a breakout room's) that a local member
        needs, once (module docstring)."""
        node = self.node
        if node is None:
            return
        members = policy.members
        for ref in policy.tracks:
            track = self.remote.get(ref.mid)
            if track is None or track.info.meeting_id != meeting_id:
                continue
            needed = bool(members) and (ref.kind == "audio" or any(policy.subscribed(m, ref) for m in members))
            layers = frozenset({0}) if needed else frozenset()
            if needed and track.published.simulcast is not None:
                layers = self._layers_needed(track)
            if layers == track.wanted:
                continue
            track.wanted = layers
            node.want(track.info.track_id, layers)
            if layers and ref.kind == "video":
                node.request_key_frame(track.info.track_id)  # the subscribers waiting for it start sooner

    def reports_speakers(self, meeting_id: str) -> bool:
        """Whether this edge tells the API of the meeting's dominant speaker. Every edge of the meeting hears
        every microphone and reaches the same answer; the first edge in the API's list alone reports it, so the
        meeting gets one ``ACTIVE_SPEAKER_CHANGED`` per change, not one per edge."""
        edges = self.node.router.edges.get(meeting_id) if self.node is not None else None
        return not edges or edges[0] == self.settings.registry_id

    # -- host controls --------------------------------------------------------------------------------------------

    def set_audio_blocked(self, meeting_id: str, participant_id: str, blocked: bool) -> None:
        key = (meeting_id, participant_id)
        (self._audio_blocked.add if blocked else self._audio_blocked.discard)(key)
        for track in self.remote.values():
            forwarder = track.published.forwarder
            if (track.info.meeting_id, track.info.participant_id) == key and track.ref.kind == "audio" and forwarder:
                forwarder.paused = blocked

    def set_removed(self, meeting_id: str, participant_id: str, removed: bool) -> None:
        """A removed publisher's remote tracks leave the rooms here at once (not only when its origin edge has
        closed its session and withdrawn them)."""
        key = (meeting_id, participant_id)
        if not removed:
            self._removed.discard(key)
            return
        self._removed.add(key)
        for track in self.remote.values():
            if (track.info.meeting_id, track.info.participant_id) == key and not track.hidden:
                track.hidden = True
                if self.rooms is not None:
                    self.rooms.remote_unpublished(meeting_id, track.info.room or None, track.ref)

    def stats(self) -> dict[str, Any]:
        """What crossed the trunks, per track: for this edge's own tracks the packets handed to the relay and the
        copies sent to each peer (one per packet per peer that pulls it), for remote ones the packets received."""
        node = self.node
        sent: dict[str, dict[str, int]] = {}
        for (track_id, peer), n in node.copies_sent.items() if node else ():
            sent.setdefault(track_id, {})[peer] = n
        return {
            "addr": self.relay_addr,
            "links": sorted(p for p, s in node.links.items() if s.link is not None and not s.link.closed)
            if node
            else [],
            "local": {
                t.track_id: {"kind": t.ref.kind, "relayed": t.relayed, "sent": sent.get(t.track_id, {})}
                for t in self.local.values()
            },
            "remote": {
                t.info.track_id: {"kind": t.ref.kind, "received": t.received, "participant": t.info.participant_id}
                for t in self.remote.values()
            },
        }


async def start_when_key_loads(mesh: EdgeMesh, key: Callable[[], Awaitable[Ed25519PublicKey]]) -> None:
    """Start ``mesh`` once the API's public key loads (retrying while the API is unreachable)."""
    delay = 0.25
    while True:
        try:
            api_key = await key()
        except Exception as exc:  # the key source's own errors (API unreachable): retry, bounded back-off
            log.info("relay waits for the API's key: %s", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        await mesh.start(api_key)
        return


ESTIMATE_TTL_S = 4.0
"""Peers send estimates about once a second: one this old is from a peer that stopped pulling."""


def _least(limits: dict[str, tuple[float, float]], now: float) -> float | None:
    """The smallest estimate still fresh (dropping stale ones), or None."""
    for peer in [p for p, (_bps, at) in limits.items() if now - at > ESTIMATE_TTL_S]:
        del limits[peer]
    return min((bps for bps, _at in limits.values()), default=None)


def _pending_layer(group: PublishedTrack, subscribed: SubscribedTrack) -> PublishedTrack | None:
    """The layer a subscriber's down track is switching to (at its next key frame), if any."""
    down_track = subscribed.down_track
    ssrc = down_track.pending_switch if down_track is not None else None
    if ssrc is None:
        return None
    return next((x for x in group.layers.values() if x.forwarder is not None and x.forwarder.source_ssrc == ssrc), None)
