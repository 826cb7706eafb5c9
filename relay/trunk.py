"""The send queue of one relay link: bounded, and when it is full the least important media goes first.

aioquic keeps DATAGRAM frames waiting for congestion window in an unbounded deque (``send_datagram_frame`` only
appends), so a congested trunk would queue media for seconds and then deliver it too late to play. The session
hands aioquic only a few datagrams at a time and keeps the rest here, where they are ranked:

1. RTCP and audio (small, and a gap in speech is what people notice first),
2. video key frames (everything after them depends on them),
3. video deltas by simulcast layer, lowest layer first.

When the queue is full, the newest packet of the least important class present is dropped (or the arriving
packet itself, if it is no more important than anything queued): the largest layer's deltas go before key frames
and audio. A key frame queued for a track and layer also makes that layer's older deltas, still queued, useless:
they are dropped at once. The pulling edge sees the loss and asks for a smaller layer (``Subscribe``).

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

AUDIO_OR_RTCP = 0
KEY_FRAME = 1
FIRST_DELTA_CLASS = 2
"""Video deltas of layer n rank FIRST_DELTA_CLASS + n: a bigger layer is less important."""


def rank(*, audio: bool, rtcp: bool, key: bool, layer: int) -> int:
    if audio or rtcp:
        return AUDIO_OR_RTCP
    if key:
        return KEY_FRAME
    return FIRST_DELTA_CLASS + layer


@dataclass(slots=True)
class Queued:
    data: bytes
    track: int
    layer: int


@dataclass(slots=True)
class TrunkQueue:
    """Datagrams waiting for the link, by rank; FIFO within a rank (per track order is kept within a class)."""

    max_packets: int = 512
    max_bytes: int = 512 * 1200
    classes: dict[int, deque[Queued]] = field(default_factory=dict)
    packets: int = 0
    size_bytes: int = 0
    dropped: dict[int, int] = field(default_factory=dict)
    """Packets dropped per rank (full queue, or deltas a newer key frame made useless)."""

    def push(self, data: bytes, *, track: int, rank_: int, layer: int = 0) -> bool:
        """Queue ``data``; False when it was dropped instead."""
        if rank_ == KEY_FRAME:
            self._drop_stale_deltas(track, layer)
        while self.packets >= self.max_packets or self.size_bytes + len(data) > self.max_bytes:
            worst = max((r for r, q in self.classes.items() if q), default=None)
            if worst is None or worst <= rank_:  # nothing queued is less important than the newcomer
                self._count_drop(rank_)
                return False
            victim = self.classes[worst].pop()
            self.packets -= 1
            self.size_bytes -= len(victim.data)
            self._count_drop(worst)
        self.classes.setdefault(rank_, deque()).append(Queued(data, track, layer))
        self.packets += 1
        self.size_bytes += len(data)
        return True

    def pop(self) -> bytes | None:
        """The most important queued datagram, or None."""
        for r in sorted(self.classes):
            q = self.classes[r]
            if q:
                item = q.popleft()
                self.packets -= 1
                self.size_bytes -= len(item.data)
                return item.data
        return None

    def __len__(self) -> int:
        return self.packets

    def drop_unwanted(self, track: int, wanted: frozenset[int]) -> int:
        """Drop what is queued of ``track`` outside the ``wanted`` layers (the peer stopped asking for them): the
        least important classes drain last, so under load they would otherwise still cross seconds later, for
        nobody. Returns how many were dropped."""
        gone = 0
        for r, q in self.classes.items():
            kept = deque(item for item in q if item.track != track or item.layer in wanted)
            if len(kept) != len(q):
                for item in q:
                    if item.track == track and item.layer not in wanted:
                        self.size_bytes -= len(item.data)
                gone += len(q) - len(kept)
                self.dropped[r] = self.dropped.get(r, 0) + len(q) - len(kept)
                self.classes[r] = kept
        self.packets -= gone
        return gone

    def _drop_stale_deltas(self, track: int, layer: int) -> None:
        q = self.classes.get(FIRST_DELTA_CLASS + layer)
        if not q:
            return
        kept = deque(item for item in q if item.track != track or item.layer != layer)
        gone = len(q) - len(kept)
        if gone:
            for item in q:
                if item.track == track and item.layer == layer:
                    self.size_bytes -= len(item.data)
            self.packets -= gone
            self.dropped[FIRST_DELTA_CLASS + layer] = self.dropped.get(FIRST_DELTA_CLASS + layer, 0) + gone
            self.classes[FIRST_DELTA_CLASS + layer] = kept

    def _count_drop(self, rank_: int) -> None:
        self.dropped[rank_] = self.dropped.get(rank_, 0) + 1
