from __future__ import annotations

import pytest

from workers.hallucination import is_hallucination


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
