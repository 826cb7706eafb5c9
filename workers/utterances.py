"""Words decoded from a window → utterances (lines) on the signal's timeline.

A window (`workers.voice.Window`) lays pieces of the signal end to end with a short silence between them, so
one decode can cover speech that was seconds apart. Whisper's word alignment (dynamic time warping over
cross-attention) makes consecutive words touch: the first word after an inserted silence often *starts* in it,
or even in the previous piece, while its *end* lies in its own piece. So a word belongs to the piece its end
falls in (an end inside an inserted silence: the piece before), and its start is clamped to that piece. With
starts taken as aligned, a misheard first word ("and" for "Then") glued two sentences spoken 6 s apart into
one line stamped at the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from workers.voice import Window

SPLIT_GAP_S = 1.0
"""A pause between two words at least this long (in the signal) ends an utterance."""
SENTENCE_END = (".", "?", "!")


@dataclass(frozen=True, slots=True)
class Word:
    """A decoded word, times in seconds of the window."""

    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True, slots=True)
class Utterance:
    """A line: times in seconds of the signal, `probability` the mean of its words'."""

    start: float
    end: float
    text: str
    probability: float


def piece_of(window: Window, t: float) -> int:
    """The index of the piece holding window time `t` (an end): in an inserted silence, the piece before."""
    index = 0
    for i, p in enumerate(window.pieces):
        if t > p.offset:
            index = i
    return index


def on_signal(window: Window, word: Word) -> tuple[float, float]:
    """`word`'s (start, end) in the signal, both within the piece its end falls in."""
    piece = window.pieces[piece_of(window, word.end)]
    length = piece.end - piece.start
    start = min(max(word.start, piece.offset), piece.offset + length)
    end = min(max(word.end, start), piece.offset + length)
    return piece.start + start - piece.offset, piece.start + end - piece.offset


def utterances(words: Sequence[Word], window: Window, split_gap_s: float = SPLIT_GAP_S) -> list[Utterance]:
    """Group a window's words into lines: a new sentence, or a pause of `split_gap_s` or more between words
    in the signal (not the squeezed window), starts a new line, so lines stay short and a question and its
    answer from two speakers keep their order."""
    out: list[Utterance] = []
    run: list[tuple[float, float, Word]] = []
    for word in words:
        if not word.text.strip():
            continue
        start, end = on_signal(window, word)
        if run and (start - run[-1][1] >= split_gap_s or run[-1][2].text.rstrip()[-1:] in SENTENCE_END):
            out.append(_line(run, window))
            run = []
        run.append((start, end, word))
    if run:
        out.append(_line(run, window))
    return out


def _line(run: list[tuple[float, float, Word]], window: Window) -> Utterance:
    start, end = run[0][0], max(e for _s, e, _w in run)
    # Whisper's alignment tends to start a window's first word at the window's first sample (in the padding
    # before the speech): the VAD's onset of the span it belongs to is the better bound.
    onset = window.onset_before(run[0][1])  # by the word's end, which lies inside its span
    if onset is not None and start < onset <= end:
        start = onset
    text = "".join(w.text for _s, _e, w in run).strip()
    return Utterance(start, max(start, end), text, float(np.mean([w.probability for _s, _e, w in run])))
