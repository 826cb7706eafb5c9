"""One shared document in memory, sans-I/O: y-protocols messages in, the bytes to send out (to the sender, to the
other local peers, to the other API processes) and the updates to store.

Cost model: an update is applied to the pycrdt (Yrs) document once, framed once, and the same bytes go to every
peer (no per-peer re-encoding). Awareness messages (cursors, names) are re-encoded once per message, after the
server has stamped each state with the sender's authenticated name. Nothing here touches the database: edits
gather in ``pending`` and are written in batches by the service (one statement for all documents every
``collab_flush_ms``), so a pen stroke costs neither a write transaction nor a meeting event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc

from api.collab import wire
from api.collab.lock import UNLOCKED, Lock
from api.collab.wire import AwarenessEntry, Kind, Message, Step, WireError

COALESCE_PEERS = 50
"""From this many connections on a document, awareness (cursors, strokes in flight, laser pointers) goes out in
ticks: everything that changed in a tick as one message to everyone. Each update sent to each watcher costs the
server ~30 us; one cursor at 30 Hz to 1,000 watchers took 0.6 of a core (bench/board_audience.py), so a handful
of moving cursors would have saturated the server. Ticked, the cost stops growing with the number of people
moving; below this many connections every update goes out at once (the snappiest cursors)."""
AWARENESS_TICK_S = 0.05
"""How often a large audience's awareness goes out (20 times a second: as smooth as a remote cursor needs)."""
MAX_AWARENESS_STATE = 8 * 1024
"""Largest awareness state one client may publish (a cursor, a name, a colour, a selection fit in far less)."""

REMOTE = -1
"""Owner of the awareness states that come from other API processes."""


@dataclass(slots=True)
class Peer:
    id: int
    name: str
    writable: bool
    host: bool = False
    """A host or co-host: may lock the document and still change it while locked."""
    presenter: bool = False
    """Sharing their screen now: may change a document locked to hosts and presenters."""
    refused: bool = False
    """An edit of this connection was refused: every later one is too (they depend on it)."""
    client_ids: set[int] = field(default_factory=set)
    """The Yjs client ids whose awareness this connection published (it may publish no other)."""
    participant_id: str | None = None
    """Whose edits these are (api/collab/history.py); every writer is a participant of the meeting."""


@dataclass(slots=True)
class Authorship:
    """One author's share of a document's pending edits."""

    updates: int = 0
    bytes: int = 0

    def add(self, size: int) -> None:
        self.updates += 1
        self.bytes += size

    def merge(self, other: Authorship) -> None:
        self.updates += other.updates
        self.bytes += other.bytes


@dataclass(slots=True)
class Effects:
    reply: list[bytes] = field(default_factory=list)
    """To the peer whose message this was."""
    broadcast: list[bytes] = field(default_factory=list)
    """To every other local peer of the document."""
    publish_update: bytes | None = None
    """A document update the other API processes must apply."""
    publish_awareness: bytes | None = None
    """An awareness update for the other API processes."""
    refused: bool = False
    """The peer tried to change a document it may only read."""
    awareness_due: bool = False
    """Awareness is waiting for the next tick (a large audience): send ``Document.take_awareness()`` then."""


class Document:
    def __init__(self, key: tuple[str, str]) -> None:
        self.key = key
        self.doc: Doc[Any] = Doc()
        self.peers: dict[int, Peer] = {}
        self.awareness: dict[int, tuple[int, AwarenessEntry]] = {}
        self.awareness_out: dict[int, AwarenessEntry] = {}
        """Awareness changed since the last tick, by client (a large audience: COALESCE_PEERS)."""
        """Yjs client id -> (owner peer id or REMOTE, its latest entry)."""
        self.pending: list[bytes] = []
        """Updates from this process's peers not stored yet."""
        self.authors: dict[str, Authorship] = {}
        """Who sent ``pending``, by participant id (stored beside it: who changed what, api/collab/history.py)."""
        self.lock: Lock = UNLOCKED
        """A host's lock: who besides hosts and co-hosts may change it (api/collab/lock.py)."""

    # -- peers --------------------------------------------------------------------------------------------
    def join(self, peer: Peer) -> list[bytes]:
        """A new peer: it gets our state vector (so it sends what we miss: a reconnecting client's offline
        edits), the whole document at once (a late joiner needs no second round trip) and everyone's awareness."""
        self.peers[peer.id] = peer
        out = [
            wire.sync(Step.STEP1, self.doc.get_state()),
            wire.sync(Step.STEP2, self.doc.get_update()),
        ]
        if self.awareness:
            out.append(wire.awareness(wire.encode_awareness([e for _, e in self.awareness.values()])))
        return out

    def leave(self, peer_id: int) -> Effects:
        """The peer's connection closed: its cursors disappear for everyone (y-protocols removes a client whose
        state is null at the same clock)."""
        peer = self.peers.pop(peer_id, None)
        fx = Effects()
        if peer is None or not peer.client_ids:
            return fx
        gone = []
        for cid in peer.client_ids:
            owned = self.awareness.pop(cid, None)
            if owned is not None:
                gone.append(AwarenessEntry(cid, owned[1].clock, "null"))
        if gone:
            update = wire.encode_awareness(gone)
            fx.broadcast.append(wire.awareness(update))
            fx.publish_awareness = update
        return fx

    # -- messages from local peers ---------------------------------------------------------------------------
    def receive(self, peer_id: int, data: bytes) -> Effects:
        """Handle one WebSocket message of ``peer_id``. Raises WireError when it is not y-protocols."""
        peer = self.peers[peer_id]
        msg = wire.decode(data)
        if msg.kind is Kind.SYNC:
            return self._sync(peer, msg)
        if msg.kind is Kind.AWARENESS:
            return self._awareness(peer, msg.payload)
        fx = Effects()
        if self.awareness:  # QUERY_AWARENESS
            fx.reply.append(wire.awareness(wire.encode_awareness([e for _, e in self.awareness.values()])))
        return fx

    def _sync(self, peer: Peer, msg: Message) -> Effects:
        fx = Effects()
        if msg.step is Step.STEP1:
            try:
                fx.reply.append(wire.sync(Step.STEP2, self.doc.get_update(msg.payload)))
            except Exception as exc:  # pycrdt raises plain exceptions for a bad state vector
                raise WireError(f"malformed state vector: {exc}") from None
            return fx
        if msg.payload == wire.EMPTY_UPDATE:
            return fx
        reason = None
        if not peer.writable:
            reason = "read-only: you may watch this document but not change it"
        elif not self.lock.lets(host=peer.host, presenter=peer.presenter):
            whom = "hosts and presenters" if self.lock.presenters else "hosts"
            reason = f"locked: a host has locked this document for {whom}"
        elif peer.refused:
            # Its later edits build on the refused one: taken now, they would wait in the document for it (and
            # bring it in should it ever be sent again). The client starts over on a fresh document instead
            # (web/collab/provider.js, _startOver).
            reason = "refused: an earlier edit of yours was refused; open the document again"
        if reason is not None:
            peer.refused = True
            fx.reply.append(wire.permission_denied(reason))
            fx.refused = True
            return fx
        self.apply(msg.payload)
        fx.broadcast.append(wire.sync(Step.UPDATE, msg.payload))
        fx.publish_update = msg.payload
        self.pending.append(msg.payload)
        if peer.participant_id is not None:
            self.authors.setdefault(peer.participant_id, Authorship()).add(len(msg.payload))
        return fx

    def apply(self, update: bytes) -> None:
        try:
            self.doc.apply_update(update)
        except Exception as exc:  # pycrdt raises plain exceptions for a malformed update
            raise WireError(f"malformed update: {exc}") from None

    def _awareness(self, peer: Peer, update: bytes) -> Effects:
        accepted = []
        for entry in wire.decode_awareness(update):
            owner = self.awareness.get(entry.client_id)
            if owner is not None and owner[0] != peer.id:
                continue  # another connection's client: nobody may move or remove someone else's cursor
            if owner is None and entry.client_id not in peer.client_ids and len(peer.client_ids) >= 4:
                continue  # one tab has one Yjs client; a few allow for reloads on a kept connection
            entry = AwarenessEntry(entry.client_id, entry.clock, self._stamped(peer, entry.state))
            if entry.state == "null":
                self.awareness.pop(entry.client_id, None)
                peer.client_ids.discard(entry.client_id)
            else:
                self.awareness[entry.client_id] = (peer.id, entry)
                peer.client_ids.add(entry.client_id)
            accepted.append(entry)
        fx = Effects()
        if accepted:
            out = wire.encode_awareness(accepted)
            fx.publish_awareness = out
            if len(self.peers) >= COALESCE_PEERS:
                for entry in accepted:
                    self.awareness_out[entry.client_id] = entry  # only the latest state of each client goes out
                fx.awareness_due = True
            else:
                fx.broadcast.append(wire.awareness(out))
        return fx

    def take_awareness(self) -> bytes | None:
        """The awareness message of this tick (every client that changed, its latest state), for every peer; None
        when nothing changed. The sender gets its own entry back, which awareness.js ignores (same clock)."""
        if not self.awareness_out:
            return None
        entries, self.awareness_out = list(self.awareness_out.values()), {}
        return wire.awareness(wire.encode_awareness(entries))

    @staticmethod
    def _stamped(peer: Peer, state: str) -> str:
        """The state with ``user.name`` set to the peer's authenticated name: nobody draws under another's name."""
        if len(state) > MAX_AWARENESS_STATE:
            raise WireError(f"an awareness state is at most {MAX_AWARENESS_STATE} bytes (got {len(state)})")
        try:
            value = json.loads(state)
        except ValueError:
            raise WireError("an awareness state must be JSON") from None
        if value is None:
            return "null"
        if not isinstance(value, dict):
            raise WireError("an awareness state must be a JSON object or null")
        user = value.get("user")
        value["user"] = {**(user if isinstance(user, dict) else {}), "name": peer.name, "editor": peer.writable}
        return json.dumps(value, separators=(",", ":"))

    # -- from other API processes ----------------------------------------------------------------------------
    def remote_update(self, update: bytes) -> Effects:
        """Another process applied (and stores) this update: apply it here and pass it to our peers."""
        self.apply(update)
        return Effects(broadcast=[wire.sync(Step.UPDATE, update)])

    def remote_awareness(self, update: bytes) -> Effects:
        entries = wire.decode_awareness(update)
        for e in entries:
            if e.client_id in self.awareness and self.awareness[e.client_id][0] != REMOTE:
                continue
            if e.state == "null":
                self.awareness.pop(e.client_id, None)
            else:
                self.awareness[e.client_id] = (REMOTE, e)
        return Effects(broadcast=[wire.awareness(update)])

    def take_pending(self) -> list[bytes]:
        out, self.pending = self.pending, []
        return out

    def take_authors(self) -> dict[str, Authorship]:
        """Who sent the updates ``take_pending`` returned (call both together)."""
        out, self.authors = self.authors, {}
        return out
