"""The live-captions segmenter: energy VAD cuts 16 kHz audio into utterances (pure, no model)."""

from __future__ import annotations

import numpy as np
import pytest

from workers.live_captions import RATE, Segmenter, SegmenterConfig


def tone(seconds: float, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def quiet(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), np.float32)


def feed_in_chunks(seg: Segmenter, pcm: np.ndarray, chunk: int = 333) -> list:
    out = []
    for i in range(0, len(pcm), chunk):  # odd chunk sizes: frames straddle feeds
        out += seg.feed(pcm[i : i + chunk])
    return out


def test_silence_is_never_an_utterance() -> None:
    seg = Segmenter()
    assert feed_in_chunks(seg, quiet(3.0)) == [] and seg.flush() is None


def test_speech_ends_after_the_silence_and_keeps_a_pre_roll() -> None:
    seg = Segmenter()
    (u,) = feed_in_chunks(seg, np.concatenate([quiet(0.5), tone(1.0), quiet(1.0)]))
    assert u.start_s == pytest.approx(0.3, abs=0.03)  # 0.5 s minus the 0.2 s pre-roll
    assert u.end_s == pytest.approx(1.5 + 0.4, abs=0.05)  # the speech plus the closing silence
    assert len(u.pcm) == pytest.approx((u.end_s - u.start_s) * RATE, abs=RATE * 0.03)
    assert not seg.speaking


def test_short_pauses_do_not_split_an_utterance_and_clicks_are_ignored() -> None:
    seg = Segmenter()
    pcm = np.concatenate([tone(0.6), quiet(0.25), tone(0.6), quiet(0.6), tone(0.06), quiet(1.0)])
    (u,) = feed_in_chunks(seg, pcm)
    assert u.end_s - u.start_s == pytest.approx(0.6 + 0.25 + 0.6 + 0.4, abs=0.05)


def test_a_monologue_is_cut_at_the_longest_window() -> None:
    seg = Segmenter(SegmenterConfig(max_utterance_s=2.0))
    out = feed_in_chunks(seg, tone(5.0))
    assert [round(u.end_s - u.start_s, 2) for u in out] == [2.0, 2.0]
    rest = seg.flush()  # the track went quiet on the wire mid-word: what was heard is still captioned
    assert rest is not None and rest.end_s == pytest.approx(5.0, abs=0.03)


def test_quiet_noise_stays_below_the_threshold() -> None:
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(RATE * 2) * 0.003).astype(np.float32)  # about -50 dBFS
    assert feed_in_chunks(Segmenter(), noise) == []
