"""One edge's relay node: its links to the other edges of its meetings, the routing table, and the calls an edge
makes (publish a local track, want a remote one, forward packets) and receives (a remote track appeared, a
remote packet arrived, a key frame is wanted).

The edge hosts the node in its own process (``edge`` may import ``relay``; ``relay`` never imports ``edge``), so
a forwarded packet crosses no extra process. The node turns :mod:`relay.mesh`'s actions into control messages on
the right :class:`relay.protocol.Link` (mapping deployment-wide track ids to each link's track numbers) and link
events back into router calls.

**One link per pair of edges**: of two edges sharing a meeting, the one with the smaller id dials (with the
peer's relay address and certificate fingerprint from the API's ``meetingEdges``); the other accepts. Actions
for a peer whose link is not up yet wait and are replayed in order once it is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from relay.frames import Announce
from relay.mesh import Action, AnnounceTo, Router, SubscribeAt, TrackInfo, UnsubscribeAt, WithdrawFrom
from relay.protocol import Link, RelayEndpoint
from relay.session import (
    EstimateReceived,
    KeyFrameRequested,
    LinkClosed,
    MediaReceived,
    NackReceived,
    PeerReady,
    RelayEvent,
    SubscriptionChanged,
    TrackAnnounced,
    TrackWithdrawn,
)

log = logging.getLogger("meetmesh.relay.node")


@dataclass(frozen=True, slots=True)
class Peer:
    """Another edge as the API describes it (``protocol.media_control.EdgeRef``)."""

    edge_id: str
    relay_addr: str
    """``host:port`` of its relay endpoint (empty: it does not relay)."""
    fingerprint: str


@dataclass
class NodeHooks:
    """What the node tells its edge. Defaults do nothing, so tests and partial wirings set only what they use."""

    remote_track: Callable[[TrackInfo], None] = lambda track: None
    """A remote track became available here (the edge can offer it to its local subscribers)."""
    remote_track_gone: Callable[[str], None] = lambda track_id: None
    remote_packet: Callable[[str, int, bool, bytes], None] = lambda track_id, layer, key, packet: None
    """(track id, layer, key frame?, RTP packet) of a remote track this edge pulls."""
    remote_rtcp: Callable[[str, int, bytes], None] = lambda track_id, layer, packet: None
    """(track id, layer, RTCP packet) of a remote track: the origin's sender reports (its publisher's clock)."""
    key_frame_wanted: Callable[[str, int], None] = lambda track_id, layer: None
    """A remote edge needs a key frame of one of *this* edge's tracks (ask the local publisher: PLI)."""
    nack: Callable[[str, tuple[int, ...], int], None] = lambda track_id, seqs, layer: None
    """(track id, sequence numbers, simulcast layer) lost behind a peer: ask the local publisher to resend."""
    estimate: Callable[[str, str, float], None] = lambda track_id, peer, bitrate_bps: None
    """(track id, peer, bit/s): a peer pulling one of our tracks (ours, or one we pass down the tree) says the most
    its subscribers can take."""


@dataclass
class _LinkState:
    link: Link | None = None
    out: dict[str, int] = field(default_factory=dict)
    """Our track ids → our numbers on this link."""
    inbound: dict[int, str] = field(default_factory=dict)
    """The peer's numbers → track ids."""
    inbound_ids: dict[str, int] = field(default_factory=dict)
    pending: list[Action] = field(default_factory=list)


class RelayNode:
    def __init__(
        self, endpoint: RelayEndpoint, edge_id: str, *, fanout: int = 8, hooks: NodeHooks | None = None
    ) -> None:
        self.endpoint = endpoint
        self.edge_id = edge_id
        self.router = Router(edge_id, fanout)
        self.hooks = hooks or NodeHooks()
        self.peers: dict[str, Peer] = {}
        self.links: dict[str, _LinkState] = {}
        self._dialing: set[str] = set()
        self.copies_sent: dict[tuple[str, str], int] = {}
        """(track id, peer) → packets sent: the "one copy per stream per link" is checked against this."""
        self._tasks: set[asyncio.Task[None]] = set()
        endpoint.on_link = self._accepted

    # -- the edge's calls ---------------------------------------------------------------------------------------

    def set_meeting_edges(self, meeting_id: str, edges: list[Peer]) -> None:
        """The API's ``meetingEdges``: dial the peers this edge must dial, then reroute."""
        for peer in edges:
            if peer.edge_id != self.edge_id:
                self.peers[peer.edge_id] = peer
        for peer in edges:
            if peer.edge_id < self.edge_id or peer.edge_id == self.edge_id or not peer.relay_addr:
                continue  # the smaller id dials; the larger waits for it
            self._dial(peer)
        before = self._remote()
        self._apply(self.router.set_meeting_edges(meeting_id, [e.edge_id for e in edges]), before)

    def publish(self, track: TrackInfo) -> None:
        self._apply(self.router.publish(track))

    def unpublish(self, track_id: str) -> None:
        self._apply(self.router.unpublish(track_id))

    def want(self, track_id: str, layers: frozenset[int]) -> None:
        """This edge's subscribers want ``layers`` of a remote track (empty: none)."""
        self._apply(self.router.want(track_id, layers))

    def forward(self, track_id: str, packet: bytes, *, layer: int = 0, key: bool = False, rtcp: bool = False) -> int:
        """Send a packet of a track (local, or pulled and passed on down the tree) to every peer that asked for
        this layer; returns how many peers it went to."""
        sent = 0
        for peer in self.router.forward_to(track_id, layer):
            state = self.links.get(peer)
            if state is None or state.link is None or track_id not in state.out:
                continue
            if state.link.session.send_media(state.out[track_id], packet, layer=layer, key=key, rtcp=rtcp):
                sent += 1
                if not rtcp:  # media copies: what "one copy per stream per link" is measured by
                    self.copies_sent[(track_id, peer)] = self.copies_sent.get((track_id, peer), 0) + 1
                state.link.transmit()
        return sent

    def request_key_frame(self, track_id: str, layer: int = 0) -> None:
        """A local subscriber of a remote track needs a key frame: ask the edge we pull it from."""
        pulling = self.router.pulling.get(track_id)
        if pulling is None:
            return
        state = self.links.get(pulling[0])
        if state is not None and state.link is not None and track_id in state.inbound_ids:
            state.link.session.request_key_frame(state.inbound_ids[track_id], layer)
            state.link.transmit()

    def estimate(self, track_id: str, bitrate_bps: float) -> None:
        """What this edge's subscribers (and its children in the track's tree) can take of a track it pulls: to the
        edge it is pulled from."""
        pulling = self.router.pulling.get(track_id)
        if pulling is None:
            return
        state = self.links.get(pulling[0])
        if state is not None and state.link is not None and track_id in state.inbound_ids:
            state.link.session.estimate(state.inbound_ids[track_id], bitrate_bps)
            state.link.transmit()

    def nack(self, track_id: str, seqs: tuple[int, ...], layer: int = 0) -> None:
        """A local subscriber of a remote track lost these (publisher-numbered) packets and no history here holds
        them: ask the edge we pull it from (it answers from its own history or asks further up)."""
        pulling = self.router.pulling.get(track_id)
        if pulling is None or not seqs:
            return
        state = self.links.get(pulling[0])
        if state is not None and state.link is not None and track_id in state.inbound_ids:
            state.link.session.nack(state.inbound_ids[track_id], seqs, layer)
            state.link.transmit()

    def drop_peer(self, peer_id: str) -> None:
        """``peer_id`` is no longer an edge of any meeting here (the API dropped it: it died or left): close the
        link to it now rather than wait for QUIC's idle timeout, and forget what it announced."""
        self.peers.pop(peer_id, None)
        state = self.links.pop(peer_id, None)
        before = self._remote()
        self._apply(self.router.link_lost(peer_id), before)
        if state is not None and state.link is not None and not state.link.closed:
            state.link.close(0, "no longer a peer")

    def meeting_peers(self) -> set[str]:
        """Peers that share at least one meeting with this edge (per the API's latest lists)."""
        return {e for edges in self.router.edges.values() for e in edges if e != self.edge_id}

    # -- links ----------------------------------------------------------------------------------------------------

    def _dial(self, peer: Peer) -> None:
        state = self.links.get(peer.edge_id)
        if (state is not None and state.link is not None and not state.link.closed) or peer.edge_id in self._dialing:
            return
        host, _, port = peer.relay_addr.rpartition(":")
        self._dialing.add(peer.edge_id)

        async def dial() -> None:
            try:
                link = await self.endpoint.connect(
                    (host, int(port)),
                    expected_peer=peer.edge_id,
                    pinned_fingerprint=peer.fingerprint or None,
                    on_event=self._on_event,
                )
            except (ConnectionError, TimeoutError, OSError) as exc:
                log.warning("relay link to %s (%s) failed: %s", peer.edge_id, peer.relay_addr, exc)
                return
            finally:
                self._dialing.discard(peer.edge_id)
            self._ready(peer.edge_id, link)

        task = asyncio.get_running_loop().create_task(dial(), name=f"relay-dial-{peer.edge_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _accepted(self, link: Link) -> None:
        link.on_event = self._on_event

    def _ready(self, peer_id: str, link: Link) -> None:
        state = self.links.setdefault(peer_id, _LinkState())
        state.link = link
        pending, state.pending = state.pending, []
        self._apply(pending)

    def _peer_of(self, link: Link) -> str | None:
        return link.session.peer.edge_id if link.session.peer is not None else None

    def _on_event(self, link: Link, ev: RelayEvent) -> None:
        if isinstance(ev, PeerReady):
            if ev.peer.edge_id not in self.links or self.links[ev.peer.edge_id].link is not link:
                self._ready(ev.peer.edge_id, link)
            return
        peer = self._peer_of(link)
        if peer is None:
            return
        state = self.links.setdefault(peer, _LinkState())
        if isinstance(ev, TrackAnnounced):
            a = ev.announce
            state.inbound[a.track] = a.track_id
            state.inbound_ids[a.track_id] = a.track
            before = self._remote()
            self._apply(self.router.on_announce(peer, _info(a)), before)
        elif isinstance(ev, TrackWithdrawn):
            track_id = state.inbound.pop(ev.track, None)
            if track_id is not None:
                state.inbound_ids.pop(track_id, None)
                before = self._remote()
                self._apply(self.router.on_withdraw(peer, track_id), before)
        elif isinstance(ev, SubscriptionChanged):
            track_id = next((t for t, n in state.out.items() if n == ev.track), None)
            if track_id is not None:
                self._apply(self.router.on_subscribe(peer, track_id, frozenset(ev.layers)))
        elif isinstance(ev, MediaReceived):
            track_id = state.inbound.get(ev.header.track)
            if track_id is None:
                return
            h = ev.header
            if h.rtcp:
                self.hooks.remote_rtcp(track_id, h.layer, ev.packet)
                self.forward(track_id, ev.packet, layer=h.layer, rtcp=True)  # every edge below needs the clock
                return
            self.hooks.remote_packet(track_id, h.layer, h.key, ev.packet)
            self.forward(track_id, ev.packet, layer=h.layer, key=h.key)  # on down the tree
        elif isinstance(ev, KeyFrameRequested | NackReceived):
            track_id = next((t for t, n in state.out.items() if n == ev.track), None)
            if track_id is None:
                return
            track = self.router.tracks.get(track_id)
            if track is not None and track.origin != self.edge_id:
                # Not ours: pass it up the tree.
                if isinstance(ev, KeyFrameRequested):
                    self.request_key_frame(track_id, ev.layer)
                else:
                    self.nack(track_id, ev.seqs, ev.layer)
            elif isinstance(ev, KeyFrameRequested):
                self.hooks.key_frame_wanted(track_id, ev.layer)
            else:
                self.hooks.nack(track_id, ev.seqs, ev.layer)
        elif isinstance(ev, EstimateReceived):
            track_id = next((t for t, n in state.out.items() if n == ev.track), None)
            if track_id is not None:
                self.hooks.estimate(track_id, peer, ev.bitrate_bps)
        elif isinstance(ev, LinkClosed):
            if self.links.get(peer) is not None and self.links[peer].link is link:
                del self.links[peer]
                before = self._remote()
                self._apply(self.router.link_lost(peer), before)

    # -- router actions onto links --------------------------------------------------------------------------------

    def _remote(self) -> set[str]:
        return {t for t, info in self.router.tracks.items() if info.origin != self.edge_id}

    def _apply(self, actions: list[Action], before: set[str] | None = None) -> None:
        """Carry out the router's actions; with ``before`` (the remote tracks before the router call), also tell
        the edge which remote tracks appeared or went."""
        if before is not None:
            after = self._remote()
            for track_id in sorted(before - after):
                self.hooks.remote_track_gone(track_id)
            for track_id in sorted(after - before):
                self.hooks.remote_track(self.router.tracks[track_id])
        touched: set[str] = set()
        for action in actions:
            state = self.links.setdefault(action.peer, _LinkState())
            link = state.link
            if link is None or link.closed or not link.session.ready:
                state.pending.append(action)
                if action.peer in self.peers and action.peer > self.edge_id:
                    self._dial(self.peers[action.peer])
                continue
            session = link.session
            if isinstance(action, AnnounceTo):
                t = action.track
                state.out[t.track_id] = session.announce(
                    t.meeting_id,
                    t.participant_id,
                    t.track_id,
                    t.kind,
                    t.source,
                    t.layers,
                    t.origin,
                    codec=t.codec,
                    audio_level_id=t.audio_level_id,
                    room=t.room,
                )
            elif isinstance(action, WithdrawFrom):
                number = state.out.pop(action.track_id, None)
                if number is not None:
                    session.withdraw(number)
            elif isinstance(action, SubscribeAt):
                number = state.inbound_ids.get(action.track_id)
                if number is not None:
                    session.subscribe(number, tuple(sorted(action.layers)))
            elif isinstance(action, UnsubscribeAt):
                number = state.inbound_ids.get(action.track_id)
                if number is not None:
                    session.unsubscribe(number)
            touched.add(action.peer)
        for peer in touched:
            state = self.links[peer]
            if state.link is not None:
                state.link.transmit()


def _info(a: Announce) -> TrackInfo:
    return TrackInfo(
        a.track_id,
        a.meeting_id,
        a.origin,
        a.participant_id,
        a.kind,
        a.source,
        a.layers,
        a.codec,
        a.audio_level_id,
        a.room,
    )
