"""A meeting's participants on this edge: who publishes which tracks and who should receive them.

Pure policy, no packets and no aiortc: the room answers "which tracks should this member receive" and
:mod:`edge.rooms` turns the answers into renegotiations (or source switches). The policy (ARCHITECTURE.md,
media plane):

* **screen shares** (``source="screen"``, video and its audio) go to everyone;
* **camera video** goes only from the ``last_n`` most recent speakers, as :mod:`sfu.speakers` ranks them;
  participants who never spoke fill the remaining slots in join order. Only participants publishing a camera
  take slots, and a member never takes a slot of its own: when it is among the first ``last_n`` itself, it
  receives the next one instead, so everybody sees ``last_n`` others;
* **microphone audio** goes from everyone, except in rooms of more than ``top_audio_threshold``
  participants, where only the ``top_audio_n`` loudest speakers are forwarded, each kept for ``audio_hang_s``
  after it drops out of the top so a speaker pausing for breath is not cut and re-added;
* nothing goes from a participant whose audio a host blocked (all its audio tracks, so a client cannot route
  its microphone through a "screen" track), and nobody receives its own tracks.

Every change goes through a mutator (:meth:`Room.admit`, :meth:`Room.publish`, :meth:`Room.unpublish`,
:meth:`Room.leave`, :meth:`Room.update_speakers`, :meth:`Room.set_audio_blocked`, :meth:`Room.set_meeting_size`)
that returns :data:`Changes`, per member the tracks to add and to remove, already recorded in
:attr:`Room.subscriptions`: the I/O layer applies each member's changes in order and never calls a mutator twice
for one change. Each mutation re-examines only the (member, track) pairs it can have changed, so a speaker change
in a 1000-person room costs members x that speaker's tracks, not members x tracks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

CAMERA: Final = "camera"
MICROPHONE: Final = "microphone"
SCREEN: Final = "screen"
SOURCES: Final = (CAMERA, MICROPHONE, SCREEN)


@dataclass(frozen=True, slots=True)
class TrackRef:
    """One published track: its publisher, the publisher-side mid that carries it, and what it shows."""

    publisher_id: str
    mid: str
    kind: str
    """``"audio"`` or ``"video"``."""
    source: str = ""
    """``"camera"``, ``"microphone"`` or ``"screen"``; empty means the kind's usual source (camera for video,
    microphone for audio), so ``TrackRef(p, mid, kind)`` keeps meaning what it always did."""

    def __post_init__(self) -> None:
        if self.kind not in ("audio", "video"):
            raise ValueError(f"track kind must be audio or video (got {self.kind!r})")
        if not self.source:
            object.__setattr__(self, "source", MICROPHONE if self.kind == "audio" else CAMERA)
        elif self.source not in SOURCES:
            raise ValueError(f"track source must be one of {', '.join(SOURCES)} (got {self.source!r})")
        elif (self.source, self.kind) in ((CAMERA, "audio"), (MICROPHONE, "video")):
            raise ValueError(f"a {self.source} track cannot be {self.kind}")


@dataclass(slots=True)
class SubscriptionDiff:
    """What one member must start and stop receiving."""

    add: list[TrackRef] = field(default_factory=list)
    remove: list[TrackRef] = field(default_factory=list)

    def switches(self) -> tuple[list[tuple[TrackRef, TrackRef]], list[TrackRef], list[TrackRef]]:
        """Pair removals with additions of the same kind and source, so the I/O layer can move an existing
        sender to the new publisher (``DownTrack.switch_source``, no renegotiation) instead of ending one
        transceiver and negotiating another. Returns (``(old, new)`` pairs, unpaired adds, unpaired removes),
        each in the diff's order."""
        pairs: list[tuple[TrackRef, TrackRef]] = []
        removes = list(self.remove)
        adds: list[TrackRef] = []
        for new in self.add:
            old = next((t for t in removes if t.kind == new.kind and t.source == new.source), None)
            if old is None:
                adds.append(new)
            else:
                removes.remove(old)
                pairs.append((old, new))
        return pairs, adds, removes

    def __bool__(self) -> bool:
        return bool(self.add or self.remove)


Changes = dict[str, SubscriptionDiff]
"""Per member (in join order), the subscriptions to add and to remove; members without changes are absent."""


@dataclass(eq=False)
class Room:
    """One meeting (or breakout room) on this edge."""

    meeting_id: str
    last_n: int = 25
    """Camera videos each member receives (``EDGE_LAST_N``); 0: none."""
    top_audio_threshold: int = 50
    """Above this many participants only the loudest speakers' audio is forwarded (``EDGE_TOP_AUDIO_THRESHOLD``)."""
    top_audio_n: int = 3
    """How many loudest speakers are heard in a large room (``EDGE_TOP_AUDIO_N``)."""
    audio_hang_s: float = 2.0
    """How long a speaker stays heard in a large room after it left the top (``EDGE_AUDIO_HANG_S``)."""
    members: set[str] = field(default_factory=set)
    """Participants whose first negotiation finished, so they can receive edge offers."""
    tracks: dict[TrackRef, None] = field(default_factory=dict)
    """Published tracks whose media is flowing into the edge (ordered, so subscribers add them in order)."""
    subscriptions: dict[str, set[TrackRef]] = field(default_factory=dict)
    """Per member, what it receives or is being given, as the returned :data:`Changes` left it."""
    participants: dict[str, None] = field(default_factory=dict)
    """Everyone in the room (members and publishers), in join order; their number decides the audio rule."""
    audio_blocked: set[str] = field(default_factory=set)
    """Participants a host muted: none of their audio is forwarded. May name participants not (or no longer)
    here: a mute holds from before the first track and across a reconnect, until the API lifts it."""
    meeting_size: int = 0
    """Admitted participants in the whole meeting, on every edge (``protocol.media_control.MeetingSize``); 0
    until the API says."""
    recent_speakers: tuple[str, ...] = ()
    """Most recent speaker first (:attr:`sfu.speakers.SpeakerUpdate.recent`)."""
    loudest: tuple[str, ...] = ()
    """Loudest speaker first (:attr:`sfu.speakers.SpeakerUpdate.loudest`)."""
    now: float = 0.0
    """Time of the latest :meth:`update_speakers`; the clock for the audio hang time."""
    _heard_until: dict[str, float] = field(default_factory=dict, repr=False)
    """Large rooms: when each recent top speaker stops being forwarded."""
    _by_publisher: dict[str, list[TrackRef]] = field(default_factory=dict, repr=False)
    _cameras: dict[str, int] = field(default_factory=dict, repr=False)
    """Publishers with camera video, and how many such tracks."""
    _video_rank: dict[str, int] = field(default_factory=dict, repr=False)
    """The first ``last_n + 1`` camera publishers by last-N priority, with their position."""
    _heard: frozenset[str] | None = field(default=None, repr=False)
    """Whose microphone is forwarded; None: everyone's (a room at or under the threshold)."""

    def __post_init__(self) -> None:
        if self.last_n < 0:
            raise ValueError(f"last_n must be >= 0 (got {self.last_n})")
        if self.top_audio_threshold < 0:
            raise ValueError(f"top_audio_threshold must be >= 0 (got {self.top_audio_threshold})")
        if self.top_audio_n < 0:
            raise ValueError(f"top_audio_n must be >= 0 (got {self.top_audio_n})")
        if self.audio_hang_s < 0:
            raise ValueError(f"audio_hang_s must be >= 0 (got {self.audio_hang_s})")

    # -- questions --------------------------------------------------------------------------------------------

    def wanted(self, participant_id: str) -> set[TrackRef]:
        """Every track the policy gives ``participant_id`` now (empty unless it is a member)."""
        if participant_id not in self.members:
            return set()
        return {t for t in self.tracks if self._wants(participant_id, t)}

    def video_slots(self, participant_id: str) -> list[str]:
        """The publishers whose camera ``participant_id`` receives, in last-N priority order."""
        ranked = sorted(self._video_rank, key=self._video_rank.__getitem__)
        return [p for p in ranked if p != participant_id][: self.last_n]

    @property
    def large(self) -> bool:
        """Whether only the loudest speakers' audio is forwarded: by the meeting's size when the API told it
        (a meeting spread over several edges), or by who is here, whichever is larger."""
        return max(len(self.participants), self.meeting_size) > self.top_audio_threshold

    @property
    def empty(self) -> bool:
        return not self.members and not self.tracks

    def subscribed(self, participant_id: str, track: TrackRef) -> bool:
        """Whether the subscription a mutator handed out still stands: the I/O layer checks it right before
        negotiating, and skips tracks that a later change (a leave, a new speaker) already took back."""
        return track in self.subscriptions.get(participant_id, ())

    # -- mutators ---------------------------------------------------------------------------------------------

    def admit(self, participant_id: str) -> Changes:
        """``participant_id`` can now receive (its first negotiation finished)."""
        if participant_id in self.members:
            return {}
        self.members.add(participant_id)
        self.subscriptions.setdefault(participant_id, set())
        self.participants.setdefault(participant_id, None)
        return self._mutated(members={participant_id})

    def publish(self, track: TrackRef) -> Changes:
        """``track``'s media is flowing into the edge."""
        if track in self.tracks:
            return {}
        self.participants.setdefault(track.publisher_id, None)
        self.tracks[track] = None
        self._by_publisher.setdefault(track.publisher_id, []).append(track)
        if track.kind == "video" and track.source == CAMERA:
            self._cameras[track.publisher_id] = self._cameras.get(track.publisher_id, 0) + 1
        return self._mutated(publishers={track.publisher_id})

    def unpublish(self, track: TrackRef) -> Changes:
        """``track`` stopped (a screen share ended, a camera was removed)."""
        if track not in self.tracks:
            return {}
        changes = self._withdraw([track])
        self._forget_track(track)
        return self._mutated(changes=changes)

    def leave(self, participant_id: str) -> Changes:
        """Forget ``participant_id`` and its tracks."""
        if participant_id not in self.participants:
            return {}
        self.members.discard(participant_id)
        self.subscriptions.pop(participant_id, None)
        del self.participants[participant_id]
        self._heard_until.pop(participant_id, None)
        gone = list(self._by_publisher.get(participant_id, ()))
        changes = self._withdraw(gone)
        for track in gone:
            self._forget_track(track)
        return self._mutated(changes=changes)

    def set_audio_blocked(self, participant_id: str, blocked: bool) -> Changes:
        """A host muted (``blocked``) or released ``participant_id``'s audio."""
        if blocked == (participant_id in self.audio_blocked):
            return {}
        (self.audio_blocked.add if blocked else self.audio_blocked.discard)(participant_id)
        return self._mutated(publishers={participant_id})

    def set_meeting_size(self, participants: int) -> Changes:
        """The whole meeting (every edge) has ``participants`` admitted, as the API counts them."""
        if participants == self.meeting_size:
            return {}
        self.meeting_size = participants
        return self._mutated()

    def update_speakers(self, recent: Sequence[str], loudest: Sequence[str], now: float) -> Changes:
        """The speaker detector's latest answer (:class:`sfu.speakers.SpeakerUpdate` ``recent`` and
        ``loudest``). Call it on every tick, changed or not: it also advances the audio hang time."""
        self.recent_speakers = tuple(recent)
        self.loudest = tuple(loudest)
        self.now = now
        return self._mutated()

    # -- legacy calling convention (edge/rooms.py before speakers) ---------------------------------------------

    def add_member(self, participant_id: str) -> list[TrackRef]:
        """:meth:`admit`, answering only the tracks ``participant_id`` should subscribe to. Changes for other
        members (a room crossing the audio threshold) are recorded but not returned: use :meth:`admit`."""
        return list(self.admit(participant_id).get(participant_id, SubscriptionDiff()).add)

    def add_track(self, track: TrackRef) -> list[str]:
        """:meth:`publish`, answering only the members that should subscribe to ``track``."""
        return [m for m, diff in self.publish(track).items() if track in diff.add]

    def remove(self, participant_id: str) -> dict[str, list[TrackRef]]:
        """:meth:`leave`, answering only, per member, the subscriptions to drop."""
        return {m: diff.remove for m, diff in self.leave(participant_id).items() if diff.remove}

    # -- policy -----------------------------------------------------------------------------------------------

    def _wants(self, member: str, track: TrackRef) -> bool:
        publisher = track.publisher_id
        if publisher == member:
            return False
        if track.kind == "audio":
            if publisher in self.audio_blocked:
                return False
            return track.source == SCREEN or self._heard is None or publisher in self._heard
        if track.source == SCREEN:
            return True
        rank = self._video_rank.get(publisher)
        if rank is None:
            return False
        if rank < self.last_n:
            return True
        # The (last_n + 1)-th publisher fills the slot of a member that is itself among the first last_n.
        own = self._video_rank.get(member)
        return own is not None and own < self.last_n

    def _rank_video(self) -> dict[str, int]:
        ranked: dict[str, int] = {}
        limit = self.last_n + 1
        for pool in (self.recent_speakers, self.participants):
            for p in pool:
                if len(ranked) == limit:
                    return ranked
                if p in self._cameras and p not in ranked:
                    ranked[p] = len(ranked)
        return ranked

    def _rank_audio(self) -> frozenset[str] | None:
        if not self.large:
            self._heard_until.clear()
            return None
        # A host-muted speaker takes no slot: its audio is not forwarded anyway.
        top = [p for p in self.loudest if p in self.participants and p not in self.audio_blocked][: self.top_audio_n]
        for p in top:
            self._heard_until[p] = self.now + self.audio_hang_s
        for p, until in list(self._heard_until.items()):
            if until <= self.now:
                del self._heard_until[p]
        return frozenset(self._heard_until) | frozenset(top)

    def _mutated(
        self,
        changes: Changes | None = None,
        *,
        members: Iterable[str] = (),
        publishers: Iterable[str] = (),
    ) -> Changes:
        """Re-derive the rankings, then re-examine the pairs the mutation can have changed: every track of
        ``members``, and every member for the tracks of ``publishers`` and of whoever the rankings moved."""
        dirty = set(publishers)
        video = self._rank_video()
        if video != self._video_rank:
            dirty |= self._moved(self._video_rank, video)
            self._video_rank = video
        heard = self._rank_audio()
        if heard != self._heard:
            everyone = frozenset(self.participants)
            dirty |= (everyone if self._heard is None else self._heard) ^ (everyone if heard is None else heard)
            self._heard = heard
        return self._reconcile(changes if changes is not None else {}, set(members), dirty)

    def _moved(self, old: dict[str, int], new: dict[str, int]) -> set[str]:
        """Publishers whose camera some member may gain or lose between two rankings: those entering or leaving
        the first ``last_n``, and the (last_n + 1)-th of either (it serves the members inside the first last_n,
        and that group may have changed)."""
        n = self.last_n
        old_top = {p for p, i in old.items() if i < n}
        new_top = {p for p, i in new.items() if i < n}
        return (old_top ^ new_top) | {p for p, i in old.items() if i == n} | {p for p, i in new.items() if i == n}

    def _reconcile(self, changes: Changes, members: set[str], publishers: set[str]) -> Changes:
        some = [t for t in self.tracks if t.publisher_id in publishers] if publishers else []
        for member in self.participants:
            if member not in self.members:
                continue
            candidates = self.tracks if member in members else some
            subs = self.subscriptions[member]
            for track in candidates:
                want = self._wants(member, track)
                if want == (track in subs):
                    continue
                diff = changes.get(member)
                if diff is None:
                    diff = changes[member] = SubscriptionDiff()
                if want:
                    subs.add(track)
                    diff.add.append(track)
                else:
                    subs.discard(track)
                    diff.remove.append(track)
        # Only members remain in ``changes`` (a leaver's own subscriptions are gone with it); join order.
        return {m: changes[m] for m in self.participants if changes.get(m)}

    def _withdraw(self, tracks: list[TrackRef]) -> Changes:
        """Take ``tracks`` (about to disappear) from every member that has them."""
        changes: Changes = {}
        for member in self.participants:
            subs = self.subscriptions.get(member)
            if subs is None:
                continue
            lost = [t for t in tracks if t in subs]
            if lost:
                subs.difference_update(lost)
                changes[member] = SubscriptionDiff(remove=lost)
        return changes

    def _forget_track(self, track: TrackRef) -> None:
        del self.tracks[track]
        own = self._by_publisher[track.publisher_id]
        own.remove(track)
        if not own:
            del self._by_publisher[track.publisher_id]
        if track.kind == "video" and track.source == CAMERA:
            left = self._cameras[track.publisher_id] - 1
            if left:
                self._cameras[track.publisher_id] = left
            else:
                del self._cameras[track.publisher_id]
