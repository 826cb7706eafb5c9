from __future__ import annotations

import numpy as np
import pytest

from workers.denoise import (
    RATE,
    DenoiseOptions,
    denoise,
    high_pass,
    high_pass_gain,
    noise_power,
    snr_db,
    speech_frames,
)
from workers.synthetic import noise


def voice(seconds: float, seed: int) -> np.ndarray:
    """A voice-like signal: harmonics of a gliding pitch under a syllable-rate envelope (4 Hz)."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * RATE)) / RATE
    f0 = 110 + 40 * np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 6))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    out = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
    return (0.2 * out * envelope).astype(np.float32)


def scene(snr: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float]]]:
    """(noisy, clean, speech spans): 2 s of noise only, 4 s of voice, 2 s of noise only."""
    clean = np.zeros(8 * RATE, np.float32)
    clean[2 * RATE : 6 * RATE] = voice(4.0, seed)
    speech_rms = float(np.sqrt(np.mean(clean[2 * RATE : 6 * RATE] ** 2)))
    return clean + noise(len(clean), speech_rms * 10 ** (-snr / 20), seed), clean, [(2.0, 6.0)]


WIENER = DenoiseOptions(wiener=True, high_pass_hz=0.0)
"""The Wiener gain on its own (off by default: see DenoiseOptions.wiener)."""


def band_db(pcm: np.ndarray, lo: float, hi: float) -> float:
    """Energy (dB) of `pcm` between `lo` and `hi` Hz."""
    spectrum = np.abs(np.fft.rfft(pcm)) ** 2
    f = np.fft.rfftfreq(len(pcm), 1 / RATE)
    return float(10 * np.log10(spectrum[(f >= lo) & (f < hi)].sum() + 1e-20))


def snr_of(estimate: np.ndarray, clean: np.ndarray) -> float:
    a, b = 2 * RATE, 6 * RATE
    error = estimate[a:b] - clean[a:b]
    return float(10 * np.log10(np.sum(clean[a:b] ** 2) / np.sum(error**2)))


@pytest.mark.parametrize("seed", range(3))
def test_loud_noise_is_suppressed_and_speech_kept(seed: int) -> None:
    noisy, clean, spans = scene(snr=5.0, seed=seed)
    out = denoise(noisy, spans, WIENER)
    assert out.shape == noisy.shape and out.dtype == np.float32
    # Within the speech the signal is closer to the clean voice than the input was...
    assert snr_of(out, clean) > snr_of(noisy, clean) + 3.0
    # ...and the noise-only stretches are at least 12 dB quieter.
    before = np.sqrt(np.mean(noisy[: 2 * RATE] ** 2))
    after = np.sqrt(np.mean(out[: 2 * RATE] ** 2))
    assert 20 * np.log10(after / before) < -12.0
    # The voice itself is not cut away: its level stays within 3 dB.
    a, b = 2 * RATE, 6 * RATE
    assert abs(20 * np.log10(np.sqrt(np.mean(out[a:b] ** 2)) / np.sqrt(np.mean(clean[a:b] ** 2)))) < 3.0


def test_mild_noise_and_silence_are_left_alone() -> None:
    noisy, _clean, spans = scene(snr=25.0)
    assert np.array_equal(denoise(noisy, spans), noisy)  # above max_snr_db: Whisper copes better unfiltered
    clean = scene(snr=5.0)[1]
    assert np.array_equal(denoise(clean, spans), clean)  # no noise at all
    assert np.array_equal(denoise(np.zeros(RATE, np.float32), []), np.zeros(RATE, np.float32))


def test_the_filter_is_transparent_when_it_changes_nothing() -> None:
    # With the gain pinned at 1 the STFT analysis/synthesis must give the input back (sqrt-Hann, 50 % overlap).
    noisy, _clean, spans = scene(snr=5.0)
    out = denoise(noisy, spans, DenoiseOptions(floor=1.0, wiener=True, high_pass_hz=0.0))
    assert np.max(np.abs(out - noisy)) < 1e-4


def test_noise_is_learnt_from_non_speech_not_from_digital_silence() -> None:
    rng = np.random.default_rng(1)
    power = rng.uniform(0.5, 1.5, (200, 257)).astype(np.float32)
    power[:100] *= 100  # speech frames
    power[150:170] = 0.0  # an echo gate's zeros (or a mute) inside the non-speech
    in_speech = np.arange(200) < 100
    estimate = noise_power(power, in_speech, DenoiseOptions(min_noise_s=0.5))
    assert np.allclose(estimate, np.concatenate([power[100:150], power[170:]]).mean(axis=0))
    assert 19.0 < snr_db(power, in_speech, estimate) < 20.5  # speech 100x the noise: ~20 dB
    # Too little non-speech: the 20th percentile of the live frames instead.
    fallback = noise_power(power, in_speech, DenoiseOptions(min_noise_s=5.0))
    assert np.allclose(fallback, np.percentile(np.concatenate([power[:150], power[170:]]), 20, axis=0))


def test_without_enough_non_speech_a_percentile_stands_in() -> None:
    noisy, clean, _spans = scene(snr=5.0)
    everything = [(0.0, 8.0)]  # the VAD called it all speech: no noise-only frames to learn from
    out = denoise(noisy, everything, WIENER)
    assert snr_of(out, clean) > snr_of(noisy, clean) + 1.0


def test_deterministic_and_short_input() -> None:
    noisy, _clean, spans = scene(snr=8.0, seed=4)
    assert np.array_equal(denoise(noisy, spans), denoise(noisy.copy(), spans))
    short = noisy[:100]
    assert np.array_equal(denoise(short, []), short)


def test_speech_frames_cover_spans_with_margin() -> None:
    marks = speech_frames([(1.0, 2.0)], count=300, margin_s=0.1)
    centres = (np.arange(300) * 256 - 256 + 256) / RATE
    assert marks[(centres > 1.0) & (centres < 2.0)].all()
    assert not marks[centres < 0.8].any() and not marks[centres > 2.2].any()


def test_high_pass_takes_out_rumble_and_keeps_the_voice_band() -> None:
    rng = np.random.default_rng(7)
    white = rng.standard_normal(4 * RATE).astype(np.float32) * 0.1
    out = high_pass(white, 120.0)
    assert out.shape == white.shape and out.dtype == np.float32
    # Below 60 Hz (an octave under the cut-off, 4th order: -24 dB) the rumble is at least 20 dB down...
    assert band_db(out, 10, 60) - band_db(white, 10, 60) < -20.0
    # ...while the voice band (300 Hz - 4 kHz, where speech is understood) stays within 0.5 dB.
    assert abs(band_db(out, 300, 4000) - band_db(white, 300, 4000)) < 0.5
    assert np.array_equal(high_pass(white, 0.0), white)
    assert np.array_equal(high_pass(white[:100], 120.0), white[:100])


def test_high_pass_gain_is_butterworth() -> None:
    gain = high_pass_gain(120.0, order=4)
    f = np.fft.rfftfreq(512, 1 / RATE)
    at = int(np.argmin(np.abs(f - 125.0)))  # the bin nearest the cut-off
    assert gain[0] == 0.0 and np.all(np.diff(gain) >= 0)
    assert abs(20 * np.log10(gain[at]) + 3.0) < 1.0  # about -3 dB at the cut-off
    assert gain[-1] > 0.999


def test_noisy_speech_can_be_high_passed_alone() -> None:
    # The room noise is low-pass (like a fan): the high-pass alone lowers it in the non-speech by >= 3 dB and
    # keeps the voice above 300 Hz (its formants: what is understood) within 0.5 dB.
    noisy, clean, spans = scene(snr=5.0, seed=2)
    only = DenoiseOptions(wiener=False, high_pass_hz=120.0)
    out = denoise(noisy, spans, only)
    assert np.array_equal(out, high_pass(noisy, 120.0))
    before = np.sqrt(np.mean(noisy[: 2 * RATE] ** 2))
    after = np.sqrt(np.mean(out[: 2 * RATE] ** 2))
    assert 20 * np.log10(after / before) < -3.0
    a, b = 2 * RATE, 6 * RATE
    assert abs(band_db(out[a:b], 300, 4000) - band_db(noisy[a:b], 300, 4000)) < 0.5
    voice_only = high_pass(clean, 120.0)
    assert abs(band_db(voice_only[a:b], 300, 4000) - band_db(clean[a:b], 300, 4000)) < 0.5
    # Mild noise is still left alone entirely; with neither step chosen nothing changes.
    mild, _clean, spans = scene(snr=25.0)
    assert np.array_equal(denoise(mild, spans, only), mild)
    assert np.array_equal(denoise(noisy, spans, DenoiseOptions(wiener=False)), noisy)
