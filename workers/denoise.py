"""Steady background noise (a fan, a room, a laptop) taken out of a speaker's signal before it is decoded.

A short-time Fourier transform (32 ms frames, 50 % overlap, square-root Hann analysis and synthesis windows,
which reconstruct the input exactly when nothing is changed) and a Wiener gain per frequency bin with the
"decision-directed" a-priori SNR estimate of Ephraim & Malah (IEEE Trans. ASSP 32(6), 1984), which keeps the
gain from flickering frame to frame (the "musical noise" of plain spectral subtraction). The noise spectrum is
the mean power of the frames the voice activity detector called non-speech - it already ran on the signal -
or, when there are too few of those, a low percentile of every frame's power per bin. The gain never goes
below `floor` so speech buried in the noise is attenuated, not cut out.

Pure numpy, no I/O: tested on synthetic signals in tests/unit/workers/test_denoise.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RATE = 16_000
N_FFT = 512
"""32 ms at 16 kHz."""
HOP = N_FFT // 2


@dataclass(frozen=True, slots=True)
class DenoiseOptions:
    floor: float = 0.15
    """Lowest gain (about -16 dB): deeper suppression distorts speech in loud noise more than it helps."""
    smoothing: float = 0.98
    """Decision-directed weight of the previous frame's clean estimate (Ephraim & Malah's alpha)."""
    min_noise_s: float = 1.0
    """Non-speech needed to trust a noise estimate from it; otherwise a per-bin percentile of all frames."""
    quiet_db: float = -70.0
    """Noise below this (dBFS) is left alone: there is nothing to take out."""
    max_snr_db: float = 15.0
    """A signal whose speech is this much or more above its noise is left alone: Whisper copes with mild noise
    and the suppression's small distortions then cost more words than they save (measured on bench/devset.py:
    at 20 dB SNR suppressing lost words, at 10 dB it won them back)."""


def _window() -> np.ndarray:
    # Periodic Hann: its 50 %-overlapped copies sum to 1, so sqrt-Hann twice (analysis, synthesis) is identity.
    n = np.arange(N_FFT)
    w: np.ndarray = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)).astype(np.float32)
    return w


def _frames(pcm: np.ndarray) -> tuple[np.ndarray, int]:
    """(frames, padded length): the signal padded by half a frame at the start and to whole hops at the end."""
    pad = HOP
    n = len(pcm) + 2 * pad
    n += (-n) % HOP
    padded = np.zeros(n, np.float32)
    padded[pad : pad + len(pcm)] = pcm
    count = (n - N_FFT) // HOP + 1
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(count)[:, None]
    return padded[idx], n


def noise_power(power: np.ndarray, speech: np.ndarray, options: DenoiseOptions) -> np.ndarray:
    """Per-bin noise power from the frames `speech` marks False (digital silence - an echo gate's zeros, a
    mute - is not noise and is left out), or the 20th percentile of all frames when too few are non-speech."""
    live = power.sum(axis=1) > 0
    quiet = ~speech & live
    if quiet.sum() * HOP / RATE >= options.min_noise_s:
        estimate: np.ndarray = power[quiet].mean(axis=0)
        return estimate
    if not live.any():
        return np.zeros(power.shape[1], np.float32)
    fallback: np.ndarray = np.percentile(power[live], 20, axis=0)
    return fallback


def snr_db(power: np.ndarray, speech: np.ndarray, noise: np.ndarray) -> float:
    """Speech-to-noise ratio (dB) of the frames `speech` marks: their mean power less the noise's, over it."""
    live = speech & (power.sum(axis=1) > 0)
    if not live.any():
        return float("inf")
    total, floor = float(power[live].sum(axis=1).mean()), float(noise.sum())
    if floor <= 0:
        return float("inf")
    return float(10 * np.log10(max(total - floor, 1e-12) / floor))


def speech_frames(spans: Sequence[tuple[float, float]], count: int, margin_s: float = 0.1) -> np.ndarray:
    """Which STFT frames touch speech: `spans` are (start, end) seconds, widened by `margin_s` each side."""
    centres = (np.arange(count) * HOP - HOP + N_FFT / 2) / RATE  # the first frame is centred on sample 0
    out = np.zeros(count, bool)
    reach = margin_s + N_FFT / 2 / RATE
    for a, b in spans:
        out |= (centres >= a - reach) & (centres <= b + reach)
    return out


def denoise(pcm: np.ndarray, spans: Sequence[tuple[float, float]], options: DenoiseOptions | None = None) -> np.ndarray:
    """`pcm` (16 kHz mono float32) with its steady background noise suppressed; `spans` are where someone
    speaks (seconds), to learn the noise from everything else. Same length; returned as is when there is no
    noise to speak of."""
    opt = options or DenoiseOptions()
    pcm = np.asarray(pcm, np.float32)
    if len(pcm) < N_FFT:
        return pcm
    frames, n = _frames(pcm)
    window = _window()
    spectrum = np.fft.rfft(frames * window, axis=1)
    power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
    in_speech = speech_frames(spans, len(frames))
    noise = noise_power(power, in_speech, opt)
    # Mean noise power per sample, for the quiet check: Parseval over the window's energy.
    noise_level = float(noise.sum() / (N_FFT * np.sum(window**2) / 2 + 1e-12))
    if noise_level <= 10 ** (opt.quiet_db / 10):
        return pcm
    if snr_db(power, in_speech, noise) >= opt.max_snr_db:
        return pcm
    noise = np.maximum(noise, 1e-12)
    gains = np.empty_like(power)
    previous = np.zeros(power.shape[1], np.float32)  # the previous frame's clean power estimate / noise
    for i in range(len(frames)):
        posterior = power[i] / noise
        prior = opt.smoothing * previous + (1 - opt.smoothing) * np.maximum(posterior - 1.0, 0.0)
        gain = np.maximum(prior / (1.0 + prior), opt.floor)
        gains[i] = gain
        previous = gain * gain * posterior
    cleaned = np.fft.irfft(spectrum * gains, n=N_FFT, axis=1).astype(np.float32) * window
    out = np.zeros(n, np.float32)
    for i in range(len(frames)):  # overlap-add
        out[i * HOP : i * HOP + N_FFT] += cleaned[i]
    result: np.ndarray = out[HOP : HOP + len(pcm)]
    return result
