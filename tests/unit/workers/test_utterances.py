from __future__ import annotations

import numpy as np
import pytest

from workers.utterances import SPLIT_GAP_S, Word, on_signal, piece_of, utterances
from workers.voice import GAP_S, Piece, Span, Window

# Two pieces of a speaker's signal 6 s apart, squeezed into one window with GAP_S of silence between them.
WINDOW = Window(
    (Piece(1.57, 4.15, 0.0), Piece(10.02, 12.73, 2.58 + GAP_S)),
    (Span(1.82, 3.9), Span(10.27, 12.48)),
)


def test_a_word_that_starts_in_the_previous_piece_belongs_to_its_own() -> None:
    # What beam search and DTW alignment gave for "...at the warehouse? Then please call...": "Then" misheard as
    # "and" without the question mark, and aligned from the end of "warehouse" (piece 1) across the silence.
    words = [
        Word(1.66, 1.84, " the", 0.9),
        Word(1.84, 2.22, " warehouse", 0.9),
        Word(2.22, 3.54, " and", 0.4),
        Word(3.54, 3.88, " please", 0.9),
        Word(3.88, 4.14, " call.", 0.9),
    ]
    lines = utterances(words, WINDOW)
    assert [line.text for line in lines] == ["the warehouse", "and please call."]
    assert lines[0].start == pytest.approx(1.57 + 1.66)
    assert lines[0].end == pytest.approx(1.57 + 2.22)
    assert lines[1].start == pytest.approx(10.27)  # where the second sentence is spoken, not 3.79
    assert lines[1].end == pytest.approx(10.02 + 4.14 - 2.98)


def test_piece_of_and_on_signal() -> None:
    assert piece_of(WINDOW, 0.5) == 0 and piece_of(WINDOW, 2.58) == 0
    assert piece_of(WINDOW, 2.8) == 0  # an end inside the inserted silence: the piece before
    assert piece_of(WINDOW, 3.0) == 1 and piece_of(WINDOW, 99.0) == 1
    assert on_signal(WINDOW, Word(2.5, 2.9, " x", 1.0)) == pytest.approx((4.07, 4.15))  # end clamped
    assert on_signal(WINDOW, Word(2.0, 3.2, " y", 1.0)) == pytest.approx((10.02, 10.24))  # start clamped


def test_sentences_and_pauses_start_lines_and_blank_words_are_skipped() -> None:
    one = Window((Piece(0.0, 10.0, 0.0),), (Span(0.0, 10.0),))
    words = [
        Word(0.0, 0.4, " Yes.", 0.9),
        Word(0.5, 0.8, " It", 0.9),
        Word(0.8, 1.0, " came", 0.9),
        Word(1.0, 1.0, " ", 0.1),
        Word(1.0 + SPLIT_GAP_S, 2.5, " Monday", 0.5),
    ]
    lines = utterances(words, one)
    assert [(line.text, line.probability) for line in lines] == [("Yes.", 0.9), ("It came", 0.9), ("Monday", 0.5)]


@pytest.mark.parametrize("seed", range(30))
def test_no_line_spans_a_silence_between_pieces(seed: int) -> None:
    # Any window of pieces at least SPLIT_GAP_S apart in the signal, and contiguous word alignments in which the
    # first word of a piece may start anywhere after the previous word: every line stays inside one piece.
    rng = np.random.default_rng(seed)
    pieces, spans, t, offset = [], [], 0.0, 0.0
    for _ in range(int(rng.integers(2, 6))):
        t += float(rng.uniform(SPLIT_GAP_S, 8.0))
        length = float(rng.uniform(0.6, 5.0))
        pieces.append(Piece(t, t + length, offset))
        spans.append(Span(t + 0.25, t + length - 0.25))
        t += length
        offset += length + GAP_S
    window = Window(tuple(pieces), tuple(spans))
    words, at = [], 0.0
    for p in pieces:
        inside = p.offset + 0.05
        while inside < p.offset + (p.end - p.start) - 0.1:
            end = min(inside + float(rng.uniform(0.1, 0.5)), p.offset + p.end - p.start)
            words.append(Word(at, end, " word", 0.9))  # starts where the previous word ended (DTW)
            at = inside = end
    for line in utterances(words, window):
        holder = [p for p in pieces if p.start - 1e-9 <= line.start <= p.end + 1e-9]
        assert holder and line.end <= holder[0].end + 1e-9, (line, pieces)
