"""A meeting's participants on this edge: who publishes which tracks and who should receive them.

Pure policy, no packets and no aiortc: the room answers "which (publisher, track) pairs should this participant
receive", and :mod:`edge.rooms` turns the answer into renegotiations. Today the policy is "everyone receives
every other participant's tracks"; last-N and layer selection (ARCHITECTURE.md, media plane) belong here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TrackRef:
    """One published track: its publisher and the publisher-side mid that carries it."""

    publisher_id: str
    mid: str
    kind: str


@dataclass(eq=False)
class Room:
    """One meeting on this edge."""

    meeting_id: str
    members: set[str] = field(default_factory=set)
    """Participants whose first negotiation finished, so they can receive edge offers."""
    tracks: dict[TrackRef, None] = field(default_factory=dict)
    """Published tracks whose media is flowing into the edge (ordered, so subscribers add them in order)."""
    subscriptions: dict[str, set[TrackRef]] = field(default_factory=dict)

    def add_member(self, participant_id: str) -> list[TrackRef]:
        """``participant_id`` can now receive; returns the tracks it should subscribe to."""
        self.members.add(participant_id)
        self.subscriptions.setdefault(participant_id, set())
        return self._missing(participant_id)

    def add_track(self, track: TrackRef) -> list[str]:
        """``track`` is flowing; returns the members that should subscribe to it."""
        self.tracks[track] = None
        return [p for p in self.members if p != track.publisher_id and track not in self.subscriptions[p]]

    def subscribed(self, participant_id: str, track: TrackRef) -> bool:
        """Record the subscription; False if it is no longer wanted (publisher or subscriber left meanwhile)."""
        if participant_id not in self.members or track not in self.tracks:
            return False
        self.subscriptions[participant_id].add(track)
        return True

    def remove(self, participant_id: str) -> dict[str, list[TrackRef]]:
        """Forget ``participant_id``; returns, per remaining member, the subscriptions to its tracks to drop."""
        self.members.discard(participant_id)
        self.subscriptions.pop(participant_id, None)
        gone = [t for t in self.tracks if t.publisher_id == participant_id]
        for t in gone:
            del self.tracks[t]
        drops: dict[str, list[TrackRef]] = {}
        for member, subs in self.subscriptions.items():
            lost = [t for t in gone if t in subs]
            subs.difference_update(lost)
            if lost:
                drops[member] = lost
        return drops

    @property
    def empty(self) -> bool:
        return not self.members and not self.tracks

    def _missing(self, participant_id: str) -> list[TrackRef]:
        subs = self.subscriptions[participant_id]
        return [t for t in self.tracks if t.publisher_id != participant_id and t not in subs]
