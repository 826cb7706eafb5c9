from __future__ import annotations

from pathlib import Path

import pytest

from capture.tracks import Track
from protocol.jobs import TrackMeta
from workers.timeline import timeline


def track(start: float, end: float) -> Track:
    meta = TrackMeta("t", "p", "P", "audio", "mic", "opus", 48000, start_time=start)
    return Track(Path("t.mkv"), meta, start, end)


def test_a_pause_is_cut_and_times_map_across_it() -> None:
    tl = timeline([track(100.0, 108.0), track(100.5, 107.9), track(114.0, 120.0), track(114.1, 119.0)])
    assert tl.spans == ((100.0, 108.0), (114.0, 120.0))
    assert tl.duration == pytest.approx(14.0)
    assert tl.to_recorded(100.0) == 0.0 and tl.to_recorded(107.0) == pytest.approx(7.0)
    assert tl.to_recorded(111.0) == pytest.approx(8.0)  # inside the pause: where it was cut
    assert tl.to_recorded(115.0) == pytest.approx(9.0) and tl.to_recorded(130.0) == pytest.approx(14.0)
    assert tl.cuts() == [pytest.approx(8.0)]
    late = track(114.1, 119.0)
    assert late.start - tl.origin(late) == pytest.approx(8.1)


def test_overlapping_and_nearly_touching_tracks_are_one_span() -> None:
    # Taps open one after another at resume, a few ms apart; a short hole is not a pause.
    tl = timeline([track(0.0, 5.0), track(5.1, 9.0), track(2.0, 4.0), track(20.0, 21.0)], min_gap_s=0.25)
    assert tl.spans == ((0.0, 9.0), (20.0, 21.0))
    assert tl.duration == pytest.approx(10.0)


def test_several_pauses_and_unsorted_input() -> None:
    tl = timeline([track(50.0, 55.0), track(10.0, 12.0), track(30.0, 31.5)])
    assert tl.spans == ((10.0, 12.0), (30.0, 31.5), (50.0, 55.0))
    assert tl.cuts() == [pytest.approx(2.0), pytest.approx(3.5)]
    assert tl.to_recorded(52.0) == pytest.approx(5.5)
