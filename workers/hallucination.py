"""Lines Whisper writes when nobody said them.

Whisper was trained on subtitles, so on noise, music or the tail of a window it emits the text that filled such
gaps in its training data: lone punctuation, bracketed sound labels, video-outro phrases. These are dropped
from transcripts and captions. Short real answers are kept: "Thank you." and "Yes." are things people say in
meetings, so only the *outro* forms ("thank you for watching") are on the list, and a lone "you" (what tiny.en
makes of a breath) only when the decoder itself was unsure.
"""

from __future__ import annotations

import re

_WORDS = re.compile(r"[a-z0-9']+")
_LABEL = re.compile(r"^\s*[\[(♪*].*[\])♪*]\s*$")
"""A sound label: "[Music]", "(applause)", "♪ ... ♪", "*cough*"."""

OUTROS = frozenset(
    {
        "thank you for watching",
        "thanks for watching",
        "thank you for watching and see you next time",
        "thank you so much for watching",
        "thanks for watching and see you next time",
        "please subscribe",
        "please subscribe to my channel",
        "subscribe to my channel",
        "like and subscribe",
        "don't forget to like and subscribe",
        "please like and subscribe",
        "see you in the next video",
        "subtitles by the amara org community",
        "transcription by castingwords",
    }
)
UNSURE = frozenset({"you", "bye", "so", "oh", "uh", "um", "hmm", "ah", "i"})
"""One-word lines tiny.en writes for breaths and clicks; kept only when the decoder was confident."""
UNSURE_MIN_PROBABILITY = 0.6
MIN_WORD_S = 0.08
"""Shortest time per word a spoken line can take. Nobody says a word in 20 ms: such a line is a word the
decoder made up at a window's inserted silence (its alignment squeezes it against the piece's edge), e.g.
"May." stamped 15.85-15.87 s between two real sentences of the development set (bench/devset.py)."""


def words(text: str) -> list[str]:
    return _WORDS.findall(text.lower().replace("’", "'"))


def is_hallucination(text: str, probability: float = 1.0, duration_s: float | None = None) -> bool:
    """True if `text` is not speech: no word at all, a sound label, a known outro, a lone filler word
    decoded with mean word `probability` under `UNSURE_MIN_PROBABILITY`, or (when its aligned `duration_s` is
    known) a line shorter than `MIN_WORD_S` per word."""
    ws = words(text)
    if not ws or _LABEL.match(text):
        return True
    if duration_s is not None and duration_s < MIN_WORD_S * len(ws):
        return True
    if " ".join(ws) in OUTROS:
        return True
    return len(ws) == 1 and ws[0] in UNSURE and probability < UNSURE_MIN_PROBABILITY


def echoes(text: str, prompt: str) -> bool:
    """True if `text` is the decoder repeating its prompt (`workers.transcribe.DecodeOptions.prompt`) rather than
    anything said: the same words, or a run of at least three of them from its start."""
    said, given = words(text), words(prompt)
    return bool(said) and (said == given or (len(said) >= 3 and given[: len(said)] == said))
