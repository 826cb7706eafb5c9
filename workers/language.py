"""Which language each speaker of a recording is transcribed in, with a multilingual model.

Whisper detects a language from up to 30 s of speech. On one speaker's accented or noisy speech that guess is
often unsure, and sometimes wrong: a West Midlands English voice at 10 dB SNR came out Welsh (0.58 against
English 0.37), and the whole speaker was then "transcribed" into nonsense (WER above 1.0). A meeting mostly
shares a language, so an unsure speaker takes the meeting's: the language most likely over every speaker's
detection together. A speaker whose own detection is confident keeps it, so a German and a Spanish speaker in
one meeting are each transcribed in theirs.

Pure functions over detection results (language → probability), tested without a model.
"""

from __future__ import annotations

from collections.abc import Sequence

CONFIDENT = 0.8
"""A speaker's own detection at least this sure is used as is. Chosen on detections outside the held-out set:
German and Spanish espeak-ng speakers were detected at 0.81-0.98, English ones at 0.22-0.92."""

Votes = dict[str, float]


def meeting_language(votes: Sequence[Votes | None], default: str = "en") -> str:
    """The language most likely over all speakers (their probabilities averaged); `default` with no votes."""
    present = [v for v in votes if v]
    if not present:
        return default
    pooled: dict[str, float] = {}
    for v in present:
        for language, p in v.items():
            pooled[language] = pooled.get(language, 0.0) + p / len(present)
    return max(sorted(pooled), key=lambda language: pooled[language])


def speaker_languages(votes: Sequence[Votes | None], confident: float = CONFIDENT, default: str = "en") -> list[str]:
    """Per speaker: their own detected language when it is at least `confident`, else the meeting's. A speaker
    with no speech (None) gets the meeting's too."""
    meeting = meeting_language(votes, default)
    out = []
    for v in votes:
        if v:
            best = max(sorted(v), key=lambda language: v[language])
            out.append(best if v[best] >= confident else meeting)
        else:
            out.append(meeting)
    return out
