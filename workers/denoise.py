"""Steady background noise (a fan, a room, a laptop) taken out of a speaker's signal before it is decoded.

A short-time Fourier transform (32 ms frames, 50 % overlap, square-root Hann analysis and synthesis windows,
which reconstruct the input exactly when nothing is changed) and a Wiener gain per frequency bin with the
"decision-directed" a-priori SNR estimate of Ephraim & Malah (IEEE Trans. ASSP 32(6), 1984), which keeps the
gain from flickering frame to frame (the "musical noise" of plain spectral subtraction). The noise spectrum is
the mean power of the frames the voice activity detector called non-speech - it already ran on the signal -
or, when there are too few of those, a low percentile of every frame's power per bin. The gain never goes
below `floor` so speech buried in the noise is attenuated, not cut out. Optionally a Butterworth high-pass
(`high_pass`, a per-bin gain in the same STFT) takes out rumble under the voice band.

Off by default in transcription (`workers.transcribe.DecodeOptions.denoise`): with tiny.en neither the Wiener
gain nor the high-pass lowered the development set's WER (numbers in `DenoiseOptions`).

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
    high_pass_hz: float = 0.0
    """Cut-off of a high-pass applied to noisy speech (0: none). Measured with tiny.en on the development set
    grid (bench/devset.py --grid) at 10 dB SNR, alone: 0.390/0.386 vs 0.404/0.404 unfiltered on two noise
    seeds, but 0.502 vs 0.430 on a third: no reliable gain, so not on by default."""
    wiener: bool = True
    """Apply the Wiener gain (with `high_pass_hz` 0 and this off, `denoise` changes nothing)."""


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


def _stft(pcm: np.ndarray) -> tuple[np.ndarray, int]:
    """(spectrum per frame, padded length) with the square-root Hann analysis window."""
    frames, n = _frames(pcm)
    return np.fft.rfft(frames * _window(), axis=1), n


def _istft(spectrum: np.ndarray, n: int, length: int) -> np.ndarray:
    """Overlap-add synthesis (square-root Hann again), cut back to the input's `length`."""
    cleaned = np.fft.irfft(spectrum, n=N_FFT, axis=1).astype(np.float32) * _window()
    out = np.zeros(n, np.float32)
    for i in range(len(cleaned)):
        out[i * HOP : i * HOP + N_FFT] += cleaned[i]
    result: np.ndarray = out[HOP : HOP + length]
    return result


def high_pass_gain(cutoff_hz: float, order: int = 4) -> np.ndarray:
    """Per-bin gain of a Butterworth high-pass of `order` (magnitude only: zero phase)."""
    f = np.fft.rfftfreq(N_FFT, 1 / RATE)
    with np.errstate(divide="ignore"):
        ratio = np.where(f > 0, cutoff_hz / np.maximum(f, 1e-9), np.inf)
    gain: np.ndarray = (1.0 / np.sqrt(1.0 + ratio ** (2 * order))).astype(np.float32)
    return gain


def high_pass(pcm: np.ndarray, cutoff_hz: float = 120.0, order: int = 4) -> np.ndarray:
    """`pcm` (16 kHz mono float32) without its rumble below `cutoff_hz`: fans, rooms, handling and mains hum
    put most of their power below the voice's first formant (a man's pitch, ~85-150 Hz, is carried by its
    harmonics above too), and that power drives Whisper's log-mel floor up. Same length."""
    pcm = np.asarray(pcm, np.float32)
    if len(pcm) < N_FFT or cutoff_hz <= 0:
        return pcm
    spectrum, n = _stft(pcm)
    return _istft(spectrum * high_pass_gain(cutoff_hz, order), n, len(pcm))


def denoise(pcm: np.ndarray, spans: Sequence[tuple[float, float]], options: DenoiseOptions | None = None) -> np.ndarray:
    """`pcm` (16 kHz mono float32) with its steady background noise suppressed; `spans` are where someone
    speaks (seconds), to learn the noise from everything else. Same length; returned as is when there is no
    noise to speak of."""
    opt = options or DenoiseOptions()
    pcm = np.asarray(pcm, np.float32)
    if len(pcm) < N_FFT or (not opt.wiener and opt.high_pass_hz <= 0):
        return pcm
    window = _window()
    spectrum, n = _stft(pcm)
    power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
    in_speech = speech_frames(spans, len(power))
    noise = noise_power(power, in_speech, opt)
    # Mean noise power per sample, for the quiet check: Parseval over the window's energy.
    noise_level = float(noise.sum() / (N_FFT * np.sum(window**2) / 2 + 1e-12))
    if noise_level <= 10 ** (opt.quiet_db / 10):
        return pcm
    if snr_db(power, in_speech, noise) >= opt.max_snr_db:
        return pcm
    band = high_pass_gain(opt.high_pass_hz) if opt.high_pass_hz > 0 else np.ones(power.shape[1], np.float32)
    if not opt.wiener:
        return _istft(spectrum * band, n, len(pcm))
    noise = np.maximum(noise, 1e-12)
    gains = np.empty_like(power)
    previous = np.zeros(power.shape[1], np.float32)  # the previous frame's clean power estimate / noise
    for i in range(len(power)):
        posterior = power[i] / noise
        prior = opt.smoothing * previous + (1 - opt.smoothing) * np.maximum(posterior - 1.0, 0.0)
        gain = np.maximum(prior / (1.0 + prior), opt.floor)
        gains[i] = gain
        previous = gain * gain * posterior
    return _istft(spectrum * gains * band, n, len(pcm))
