"""Which relay links carry which tracks: the mesh's routing table, pure (no links, no packets, no clock).

**Trees, not a full mesh.** A meeting spans a set of edges (the API's placement decides which, and tells every
edge the same ordered list). For each *origin* edge (where a track's publisher is connected) the meeting's edges
form a ``fanout``-ary tree rooted at the origin: ordering the list from the origin onwards, position ``i``'s
parent is position ``(i - 1) // fanout``. Every edge computes the same tree from the same list, so no
coordination is needed, and no node sends a stream to more than ``fanout`` peers however large the meeting
(with ``fanout`` at least the number of edges, the tree is a star: every edge pulls straight from the origin).

**One copy per stream per link.** An edge pulls a remote track from its parent in that track's tree, once,
with the union of the simulcast layers wanted by its local subscribers and by its children in the tree;
it forwards what it pulls to local subscribers and to the children that asked. Demand changes propagate
upwards only when the union changes.

The router answers with actions (:class:`Announce`, :class:`Withdraw`, :class:`Subscribe`,
:class:`Unsubscribe`) per peer edge, already recorded in its state; the I/O layer (the edge's relay glue) turns
them into control messages on the right link, mapping track ids to per-link track numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TrackInfo:
    """A track as the mesh knows it; ``track_id`` is unique in the deployment (the origin edge made it)."""

    track_id: str
    meeting_id: str
    origin: str
    """The edge its publisher is connected to."""
    participant_id: str
    kind: str
    source: str
    layers: int = 1
    codec: str = ""
    """MIME type of the packets (``relay.frames.Announce.codec``)."""
    audio_level_id: int = 0
    room: str = ""
    """Its breakout room (empty: the main room)."""


@dataclass(frozen=True, slots=True)
class AnnounceTo:
    peer: str
    track: TrackInfo


@dataclass(frozen=True, slots=True)
class WithdrawFrom:
    peer: str
    track_id: str


@dataclass(frozen=True, slots=True)
class SubscribeAt:
    """Ask ``peer`` for ``track_id`` with these layers (sent again whenever the union changes)."""

    peer: str
    track_id: str
    layers: frozenset[int]


@dataclass(frozen=True, slots=True)
class UnsubscribeAt:
    peer: str
    track_id: str


Action = AnnounceTo | WithdrawFrom | SubscribeAt | UnsubscribeAt


def tree_parent(edges: Sequence[str], origin: str, me: str, fanout: int) -> str | None:
    """``me``'s parent in ``origin``'s distribution tree over ``edges`` (None: ``me`` is the origin or absent)."""
    order = _from(edges, origin)
    if me not in order or me == origin:
        return None
    i = order.index(me)
    return order[(i - 1) // fanout]


def tree_children(edges: Sequence[str], origin: str, me: str, fanout: int) -> list[str]:
    order = _from(edges, origin)
    if me not in order:
        return []
    i = order.index(me)
    return order[i * fanout + 1 : i * fanout + 1 + fanout]


def _from(edges: Sequence[str], origin: str) -> list[str]:
    if origin not in edges:
        return []
    i = list(edges).index(origin)
    return [*edges[i:], *edges[:i]]


@dataclass
class Router:
    """One edge's view: the meetings it hosts, the tracks it can forward, and who wants which layers."""

    me: str
    fanout: int = 8
    edges: dict[str, list[str]] = field(default_factory=dict)
    """Per meeting, its edges in the API's order."""
    tracks: dict[str, TrackInfo] = field(default_factory=dict)
    """Tracks this edge has: its own publishers' and those it pulls."""
    announced: dict[str, set[str]] = field(default_factory=dict)
    """Per track, the peers it was announced to."""
    local_demand: dict[str, frozenset[int]] = field(default_factory=dict)
    """Per remote track, the layers this edge's own subscribers want."""
    peer_demand: dict[str, dict[str, frozenset[int]]] = field(default_factory=dict)
    """Per track, per child peer, the layers it subscribed to."""
    pulling: dict[str, tuple[str, frozenset[int]]] = field(default_factory=dict)
    """Per remote track, the peer it is pulled from and the layers asked for."""
    offers: dict[str, dict[str, TrackInfo]] = field(default_factory=dict)
    """Per remote track, the peers that announced it to us. Only the parent's offer is taken, but the others
    are kept: while a membership change spreads, a peer may announce as our new parent before we have learned
    the new edge list, and the offer must still be there when we do."""

    def __post_init__(self) -> None:
        if self.fanout < 1:
            raise ValueError("fanout must be >= 1")

    # -- membership ---------------------------------------------------------------------------------------------

    def set_meeting_edges(self, meeting_id: str, edges: Sequence[str]) -> list[Action]:
        """The meeting now spans ``edges`` (the API's order; this edge among them while it hosts anyone)."""
        if len(set(edges)) != len(edges):
            raise ValueError("a meeting's edge list must not repeat an edge")
        self.edges[meeting_id] = list(edges)
        out: list[Action] = []
        for track in [t for t in self.tracks.values() if t.meeting_id == meeting_id]:
            parent = self._parent(track)
            if track.origin != self.me and (parent is None or parent not in self.offers.get(track.track_id, {})):
                out += self._forget(track.track_id)  # until the new parent announces it
            else:
                out += self._reroute(track)
        for track_id, offered in self.offers.items():
            if track_id in self.tracks:
                continue
            for peer, track in offered.items():
                if track.meeting_id == meeting_id and self._parent(track) == peer:
                    self.tracks[track_id] = track
                    out += self._reroute(track)
        if self.me not in edges:
            del self.edges[meeting_id]
        return out

    # -- tracks ---------------------------------------------------------------------------------------------------

    def publish(self, track: TrackInfo) -> list[Action]:
        """A local participant published ``track`` (``origin`` is this edge)."""
        if track.origin != self.me:
            raise ValueError("publish() is for this edge's own tracks; remote ones arrive with on_announce()")
        self.tracks[track.track_id] = track
        return self._reroute(track)

    def on_announce(self, peer: str, track: TrackInfo) -> list[Action]:
        """``peer`` can forward ``track``. Taken only from our parent in the track's tree (other offers wait in
        :attr:`offers`); re-announced to our children."""
        self.offers.setdefault(track.track_id, {})[peer] = track
        if self._parent(track) != peer:
            return []
        self.tracks[track.track_id] = track
        return self._reroute(track)

    def unpublish(self, track_id: str) -> list[Action]:
        """This edge's own publisher stopped the track (or left)."""
        track = self.tracks.get(track_id)
        if track is None or track.origin != self.me:
            return []
        return self._forget(track_id)

    def on_withdraw(self, peer: str, track_id: str) -> list[Action]:
        offered = self.offers.get(track_id, {})
        offered.pop(peer, None)
        if not offered:
            self.offers.pop(track_id, None)
        track = self.tracks.get(track_id)
        if track is None or track.origin == self.me or self._parent(track) != peer:
            return []
        out = self._forget(track_id)
        # Our parent already knows: no unsubscribe goes back to a peer that withdrew the track.
        return [a for a in out if not (isinstance(a, UnsubscribeAt) and a.peer == peer)]

    def _forget(self, track_id: str) -> list[Action]:
        """Stop having ``track_id``: withdraw it from the peers we announced it to, stop pulling it. What our own
        subscribers want (:attr:`local_demand`) stays until they say otherwise (``want`` with no layers): if the
        track comes back through a new parent, it is asked for again at once."""
        self.tracks.pop(track_id, None)
        out: list[Action] = [WithdrawFrom(p, track_id) for p in sorted(self.announced.pop(track_id, set()))]
        self.peer_demand.pop(track_id, None)
        pulled = self.pulling.pop(track_id, None)
        if pulled is not None:
            out.append(UnsubscribeAt(pulled[0], track_id))
        return out

    # -- demand ---------------------------------------------------------------------------------------------------

    def want(self, track_id: str, layers: frozenset[int]) -> list[Action]:
        """This edge's local subscribers now want ``layers`` of a track (empty: none of it)."""
        if layers:
            self.local_demand[track_id] = layers
        else:
            self.local_demand.pop(track_id, None)
        track = self.tracks.get(track_id)
        return self._pull(track) if track is not None else []

    def on_subscribe(self, peer: str, track_id: str, layers: frozenset[int]) -> list[Action]:
        """A child ``peer`` wants ``layers`` of a track we announced to it (empty: unsubscribed)."""
        if peer not in self.announced.get(track_id, set()):
            return []
        demand = self.peer_demand.setdefault(track_id, {})
        if layers:
            demand[peer] = layers
        else:
            demand.pop(peer, None)
        track = self.tracks.get(track_id)
        return self._pull(track) if track is not None else []

    def forward_to(self, track_id: str, layer: int) -> list[str]:
        """The peers a packet of ``track_id``'s ``layer`` goes to (the hot path asks once per layer change)."""
        return sorted(p for p, layers in self.peer_demand.get(track_id, {}).items() if layer in layers)

    def link_lost(self, peer: str) -> list[Action]:
        """The link to ``peer`` went down: forget what it wanted and what it announced to us."""
        out: list[Action] = []
        for track_id, demand in list(self.peer_demand.items()):
            if demand.pop(peer, None) is not None and track_id in self.tracks:
                out += self._pull(self.tracks[track_id])
        for peers in self.announced.values():
            peers.discard(peer)
        for track_id in list(self.offers):
            self.offers[track_id].pop(peer, None)
            if not self.offers[track_id]:
                del self.offers[track_id]
        for track_id, track in list(self.tracks.items()):
            if track.origin != self.me and self._parent(track) == peer:
                self.pulling.pop(track_id, None)  # nothing to tell a peer that is gone
                out += self._forget(track_id)
        return out

    # -- internals ------------------------------------------------------------------------------------------------

    def _parent(self, track: TrackInfo) -> str | None:
        edges = self.edges.get(track.meeting_id, [])
        return tree_parent(edges, track.origin, self.me, self.fanout)

    def _reroute(self, track: TrackInfo) -> list[Action]:
        """Announce to the children of the track's tree, withdraw from peers that no longer are; pull from the
        parent (or stop pulling from a peer that no longer is)."""
        edges = self.edges.get(track.meeting_id, [])
        children = set(tree_children(edges, track.origin, self.me, self.fanout))
        out: list[Action] = []
        before = self.announced.setdefault(track.track_id, set())
        for peer in sorted(before - children):
            before.discard(peer)
            self.peer_demand.get(track.track_id, {}).pop(peer, None)
            out.append(WithdrawFrom(peer, track.track_id))
        for peer in sorted(children - before):
            before.add(peer)
            out.append(AnnounceTo(peer, track))
        if track.origin != self.me and self._parent(track) is None:
            return out + self._forget(track.track_id)  # we left the meeting or its origin did
        return out + self._pull(track)

    def _pull(self, track: TrackInfo) -> list[Action]:
        if track.origin == self.me:
            return []
        parent = self._parent(track)
        layers = frozenset(self.local_demand.get(track.track_id, frozenset()))
        for wanted in self.peer_demand.get(track.track_id, {}).values():
            layers |= wanted
        current = self.pulling.get(track.track_id)
        out: list[Action] = []
        if current is not None and (not layers or current[0] != parent):
            del self.pulling[track.track_id]
            out.append(UnsubscribeAt(current[0], track.track_id))
            current = None
        if layers and parent is not None and (current is None or current[1] != layers):
            self.pulling[track.track_id] = (parent, layers)
            out.append(SubscribeAt(parent, track.track_id, layers))
        return out
