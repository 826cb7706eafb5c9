"""Recorded time: the stretches of wall-clock time during which something was captured, laid end to end.

A paused recording is not marked in the capture files: pausing closes every track tap and resuming opens new
ones (``edge.rooms``), so a pause is a stretch of wall-clock time no track covers. The outputs leave it out -
the API counts recorded time the same way (``recordedSeconds`` stops while paused), and the MP4, the M4A and
the transcript's times agree with it. A participant's mute does not make such a gap: their track stays open
(and the other tracks go on), so muted time is kept, silent, as it was in the meeting.
"""

from __future__ import annotations

from dataclasses import dataclass

from capture.tracks import Track

MIN_GAP_S = 0.25
"""A gap between tracks shorter than this is the edge opening taps one after another, not a pause."""


@dataclass(frozen=True, slots=True)
class Timeline:
    spans: tuple[tuple[float, float], ...]
    """Wall-clock (unix seconds) intervals with capture, in order, disjoint."""

    @property
    def duration(self) -> float:
        return sum(b - a for a, b in self.spans)

    def to_recorded(self, wall: float) -> float:
        """Seconds of recording before wall-clock `wall` (a moment in a pause maps to where the pause was cut)."""
        before = 0.0
        for a, b in self.spans:
            if wall < a:
                return before
            if wall <= b:
                return before + wall - a
            before += b - a
        return before

    def origin(self, track: Track) -> float:
        """The wall-clock time that recorded time zero would have been for `track`: a track lies within one
        span (taps close on pause), so `wall - origin` is its recorded time throughout."""
        return track.start - self.to_recorded(track.start)

    def cuts(self) -> list[float]:
        """Recorded times at which a pause was cut."""
        out, at = [], 0.0
        for a, b in self.spans[:-1]:
            at += b - a
            out.append(at)
        return out


def timeline(tracks: list[Track], min_gap_s: float = MIN_GAP_S) -> Timeline:
    """The union of the tracks' extents, with gaps of at least `min_gap_s` (pauses) removed."""
    spans: list[tuple[float, float]] = []
    for t in sorted(tracks, key=lambda t: t.start):
        if spans and t.start - spans[-1][1] < min_gap_s:
            spans[-1] = (spans[-1][0], max(spans[-1][1], t.end))
        else:
            spans.append((t.start, t.end))
    return Timeline(tuple(spans))
