from __future__ import annotations

import pytest

from workers.hallucination import echoes, is_hallucination


@pytest.mark.parametrize(
    "text",
    [
        ".",
        " ... ",
        "?!",
        "—",
        "[Music]",
        "(applause)",
        "♪ la la ♪",
        "[BLANK_AUDIO]",
        "Thank you for watching!",
        "THANKS FOR WATCHING.",
        "Please subscribe to my channel.",
        "Don't forget to like and subscribe!",
        "Subtitles by the Amara.org community",
    ],
)
def test_non_speech_is_dropped(text: str) -> None:
    assert is_hallucination(text)


@pytest.mark.parametrize(
    "text",
    [
        "Thank you.",
        "Thank you",
        "Thanks.",
        "Yes.",
        "No!",
        "OK",
        "I'll send it.",
        "Thank you for the update.",
        "We watched the video, thank you for watching it with us.",
        "3",
        "[inaudible] the rest was clear",
    ],
)
def test_speech_is_kept(text: str) -> None:
    assert not is_hallucination(text)


def test_a_lone_filler_needs_a_confident_decoder() -> None:
    assert is_hallucination("you", probability=0.3)
    assert is_hallucination(" You. ", probability=0.59)
    assert not is_hallucination("You.", probability=0.9)
    assert not is_hallucination("Thank you.", probability=0.1)  # a real answer, however soft


def test_a_line_too_short_to_be_spoken_is_dropped() -> None:
    # Word-aligned lines: a word takes at least MIN_WORD_S; a squeezed one was made up at a window's edge.
    assert is_hallucination("May.", duration_s=0.02)
    assert is_hallucination("The second one.", duration_s=0.2)
    assert not is_hallucination("Yes.", duration_s=0.25)
    assert not is_hallucination("Thank you.", duration_s=0.3)
    assert not is_hallucination("The second one, and they can begin in early March.", duration_s=2.4)
    assert not is_hallucination("May.")  # no alignment given (live captions): judged on the text only


def test_the_decoder_repeating_its_prompt_is_not_speech() -> None:
    prompt = "Transcript of a work meeting."
    assert echoes("Transcript of a work meeting.", prompt)
    assert echoes(" transcript of a work", prompt)  # the start of it, three words or more
    assert not echoes("Transcript.", prompt)  # a word someone may say
    assert not echoes("The transcript of a work meeting is ready.", prompt)
    assert not echoes("Of a work meeting.", prompt)
    assert not echoes("", prompt)
