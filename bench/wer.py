"""Word error rate for the transcription benchmarks, scored two ways.

- `normalised` (the reported `*_wer*` of the held-out set): OpenAI Whisper's English text normaliser (the
  `whisper-normalizer` package, a copy of `whisper/normalizers/english.py`, MIT), the one Whisper's published
  WERs use: case and punctuation ignored, spoken numbers and digits compared as numbers ("forty two" = "42",
  "first" = "1st"), contractions expanded ("I'll" = "I will"), British and American spellings equated,
  hesitations ("uh", "hmm") dropped. Not lenient about words: a wrong, missing or extra word still counts.
- `raw`: lower case, punctuation removed, nothing else (what the benchmarks used before; kept as `*_raw`).
"""

from __future__ import annotations

import re
from functools import cache

from whisper_normalizer.basic import BasicTextNormalizer
from whisper_normalizer.english import EnglishTextNormalizer


@cache
def _normaliser() -> EnglishTextNormalizer:
    return EnglishTextNormalizer()


@cache
def _basic() -> BasicTextNormalizer:
    return BasicTextNormalizer()


def raw_words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("’", "'")).split()


def normalised_words(text: str, language: str = "en") -> list[str]:
    """Whisper's English normaliser for English; its basic one (case, punctuation, symbols) for others."""
    words: list[str] = (_normaliser() if language == "en" else _basic())(text).split()
    return words


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def errors(reference: str, hypothesis: str, normalise: bool = True, language: str = "en") -> tuple[int, int]:
    """(word errors, reference words) of `hypothesis` against `reference`."""
    if normalise:
        ref, hyp = normalised_words(reference, language), normalised_words(hypothesis, language)
    else:
        ref, hyp = raw_words(reference), raw_words(hypothesis)
    return edit_distance(ref, hyp), len(ref)
