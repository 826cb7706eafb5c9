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


def noisy(pcm: np.ndarray, rms: float, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (pcm + rng.standard_normal(len(pcm)) * rms).astype(np.float32)


@pytest.mark.parametrize("snr_db", [20.0, 14.0])
def test_end_of_speech_is_heard_over_steady_noise(snr_db: float) -> None:
    # Two sentences (tone bursts, RMS 0.21) 0.8 s apart over a fan: each ends 0.4 s after its speech, as in
    # silence, instead of running on to the 6 s limit.
    speech_rms = 0.3 / np.sqrt(2)
    pcm = np.concatenate([quiet(0.5), tone(1.5), quiet(0.8), tone(1.2), quiet(1.0)])
    out = feed_in_chunks(Segmenter(), noisy(pcm, speech_rms * 10 ** (-snr_db / 20)))
    assert [round(u.end_s, 1) for u in out] == [round(2.0 + 0.4, 1), round(2.8 + 1.2 + 0.4, 1)], out
    assert out[0].start_s == pytest.approx(0.3, abs=0.05)


def test_noise_that_starts_mid_stream_is_learnt() -> None:
    # A fan switches on at 1 s (-34 dBFS, above the fixed -40 dBFS threshold): after at most one long line the
    # floor is learnt and the next sentence ends on time.
    pcm = np.concatenate([quiet(1.0), quiet(3.0), tone(1.0), quiet(1.0)])
    fan = np.zeros_like(pcm)
    fan[RATE:] = noisy(np.zeros(len(pcm) - RATE, np.float32), 0.02)
    out = feed_in_chunks(Segmenter(), pcm + fan)
    assert out and out[-1].end_s == pytest.approx(5.0 + 0.4, abs=0.06), out


def test_loud_steady_speech_from_the_first_sample_is_still_speech() -> None:
    # No quiet before it: the floor cannot be learnt from silence and must not rise to the voice itself.
    seg = Segmenter(SegmenterConfig(max_utterance_s=2.0))
    out = feed_in_chunks(seg, noisy(tone(3.0, 0.5), 0.01))
    assert [round(u.end_s - u.start_s, 1) for u in out] == [2.0]
    assert seg.speaking
