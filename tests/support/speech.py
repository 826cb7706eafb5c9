"""Speech fixtures and transcript scoring shared by the worker tests: espeak-ng sentences placed on a timeline,
seeded noise at a chosen SNR, another speaker's echo, and word error rates aligned per sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from workers.synthetic import speech

RATE = 48_000


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("’", "'")).split()


def _alignment(ref: list[str], hyp: list[str]) -> list[int]:
    """Levenshtein alignment: per reference word, 1 if it was substituted or deleted (insertions are charged to
    the reference word they follow)."""
    n, m = len(ref), len(hyp)
    d = np.zeros((n + 1, m + 1), np.int32)
    d[:, 0] = np.arange(n + 1)
    d[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]))
    errors = [0] * n
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and d[i, j] == d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]):
            errors[i - 1] += int(ref[i - 1] != hyp[j - 1])
            i, j = i - 1, j - 1
        elif i > 0 and d[i, j] == d[i - 1, j] + 1:
            errors[i - 1] += 1
            i -= 1
        else:
            errors[max(0, i - 1)] += 1 if n else 0
            j -= 1
    return errors


def wer(reference: str, hypothesis: str) -> float:
    ref = words(reference)
    return sum(_alignment(ref, words(hypothesis))) / max(1, len(ref))


def sentence_wers(sentences: list[str], hypothesis: str) -> list[float]:
    """The word error rate of each sentence within one aligned transcript (a lost sentence scores 1.0)."""
    refs = [words(s) for s in sentences]
    errors = _alignment([w for r in refs for w in r], words(hypothesis))
    out, k = [], 0
    for r in refs:
        out.append(sum(errors[k : k + len(r)]) / max(1, len(r)))
        k += len(r)
    return out


@dataclass(frozen=True)
class Placed:
    text: str
    onset: float
    """Seconds at which the speech becomes audible (first sample above 1 % of full scale)."""
    end: float


def active_rms(pcm: np.ndarray) -> float:
    """RMS over the 20 ms frames that carry speech (above -40 dBFS)."""
    n = len(pcm) // 960
    frames = pcm[: n * 960].reshape(n, 960)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    loud = rms[rms > 0.01]
    return float(np.sqrt(np.mean(loud * loud))) if len(loud) else 0.0


def place(
    lines: list[tuple[float, str]], duration: float, voice: str = "", wpm: int = 0, gain: float = 1.0
) -> tuple[np.ndarray, list[Placed]]:
    """Speak each (start seconds, text) at its time; returns the 48 kHz signal and where each line is heard."""
    out = np.zeros(round(duration * RATE), np.float32)
    placed = []
    for start, text in lines:
        pcm = speech(text, RATE, voice, wpm) * gain
        a = round(start * RATE)
        b = min(len(out), a + len(pcm))
        out[a:b] += pcm[: b - a]
        loud = np.flatnonzero(np.abs(pcm) > 0.01 * gain)
        placed.append(Placed(text, start + loud[0] / RATE, start + loud[-1] / RATE))
    return out, placed


def noise(n: int, rms: float, seed: int) -> np.ndarray:
    """Seeded pink-ish noise (white through a one-pole low-pass, like a fan or a room) at `rms`."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(n).astype(np.float32)
    # A one-pole low-pass approximated by its truncated impulse response (numpy has no IIR filter).
    kernel = 0.97 ** np.arange(64, dtype=np.float32)
    pink = np.convolve(white, kernel, mode="same").astype(np.float32)
    return pink * (rms / float(np.sqrt(np.mean(pink * pink))))


def echo(pcm: np.ndarray, db: float, delay_s: float = 0.06) -> np.ndarray:
    """`pcm` attenuated by `db` (negative) and delayed, as a speaker's voice reaches another's microphone."""
    d = round(delay_s * RATE)
    out = np.zeros_like(pcm)
    out[d:] = pcm[: len(pcm) - d] * 10 ** (db / 20)
    return out
