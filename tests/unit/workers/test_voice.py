from __future__ import annotations

import itertools

import numpy as np
import pytest

from workers.voice import FRAME, GAP_S, Piece, Span, VoiceOptions, Window, echo_frames, silence_frames, windows


def spans(*pairs: tuple[float, float]) -> list[Span]:
    return [Span(a, b) for a, b in pairs]


def test_windows_hold_whole_spans_padded_and_squeezed() -> None:
    ws = windows(spans((1.0, 3.0), (3.3, 5.0), (9.0, 10.0)), duration=12.0, options=VoiceOptions(pad_s=0.25))
    assert len(ws) == 1
    (w,) = ws
    # The first two touch once padded (midpoint 3.15): one piece; the long silence before the third is squeezed.
    assert w.pieces == (Piece(0.75, 5.25, 0.0), Piece(8.75, 10.25, 4.5 + GAP_S))
    assert w.to_signal(0.0) == 0.75 and w.to_signal(4.5 + GAP_S + 0.5) == pytest.approx(9.25)
    # A time in the inserted gap: a start belongs to what follows, an end to what precedes.
    assert w.to_signal(4.6) == 8.75 and w.to_signal(4.6, end=True) == 5.25
    assert w.to_signal(99.0) == 10.25
    assert w.onset_before(3.2) == 1.0 and w.onset_before(3.4) == 3.3 and w.onset_before(0.5) is None


@pytest.mark.parametrize("seed", range(20))
def test_windows_never_cut_a_span_and_stay_short(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t, ss = 0.0, []
    for _ in range(int(rng.integers(1, 60))):
        t += float(rng.uniform(0.05, 6.0))
        length = float(rng.uniform(0.1, 24.0))
        ss.append(Span(t, t + length))
        t += length
    opt = VoiceOptions()
    ws = windows(ss, duration=t + 1.0, options=opt)
    assert [s for w in ws for s in w.spans] == ss  # every span exactly once, in order
    for w in ws:
        assert w.length <= opt.window_s + 1e-9
        for s in w.spans:  # each span lies wholly inside one piece
            assert any(p.start <= s.start and s.end <= p.end for p in w.pieces)
        offsets = [p.offset for p in w.pieces]
        assert offsets == sorted(offsets) and offsets[0] == 0.0
    pieces = [p for w in ws for p in w.pieces]
    assert all(a.end <= b.start for a, b in itertools.pairwise(pieces))  # no audio twice


def test_windows_of_nothing() -> None:
    assert windows([], 10.0) == []


def test_echo_frames_mark_a_quiet_copy_of_another_voice_not_double_talk() -> None:
    frames = 100
    a = np.full(frames, 0.1)  # a talks throughout
    b = np.full(frames, 0.1 * 10 ** (-30 / 20))  # b's mic hears a at -30 dB...
    b[60:80] = 0.08  # ...until b talks over a (double talk)
    silent = np.zeros(frames)
    echo = echo_frames(np.stack([a, b, silent]))
    assert not echo[0].any()
    assert echo[1, :45].all() and not echo[1, 55:85].any()  # within reach of b's own voice: kept
    assert echo[2].all()  # silence next to a talker: nothing to keep anyway
    assert not echo_frames(np.stack([a])).any()  # one speaker: no echo possible


def test_echo_threshold_is_relative() -> None:
    a = np.full(50, 0.2)
    b = np.full(50, 0.2 * 10 ** (-15 / 20))  # 15 dB down: could be a soft talker, not echo
    assert not echo_frames(np.stack([a, b]), ratio_db=20).any()
    loose = echo_frames(np.stack([a, b]), ratio_db=10)
    assert loose[1].all() and not loose[0].any()


def test_silence_frames() -> None:
    pcm = np.ones(FRAME * 4 + 7, np.float32)
    out = silence_frames(pcm, np.array([False, True, False, True]))
    assert out[:FRAME].all() and not out[FRAME : 2 * FRAME].any() and not out[3 * FRAME : 4 * FRAME].any()
    assert out[-7:].all() and pcm.all()  # the input is untouched
    assert silence_frames(pcm, np.zeros(4, bool)) is pcm


def test_window_length() -> None:
    w = Window((Piece(1.0, 2.0, 0.0), Piece(5.0, 7.5, 1.4)), (Span(1.1, 1.9), Span(5.2, 7.3)))
    assert w.length == pytest.approx(3.9)
