from __future__ import annotations

from workers.transcribe import DecodeOptions, prompt_for, surer
from workers.utterances import Utterance


def line(text: str, probability: float) -> Utterance:
    return Utterance(0.0, 1.0, text, probability)


def test_the_decode_the_decoder_was_surer_of_is_kept() -> None:
    suppressed = [line("Only half of them.", 0.55), line("The rest are stuck.", 0.60)]
    captured = [line("Only half of them, the rest are stuck at the warehouse.", 0.80)]
    assert surer(suppressed, captured) is captured
    assert surer(captured, suppressed) is captured


def test_lines_count_by_their_words() -> None:
    # One confident word does not outweigh a long line the decoder was fairly sure of: 0.7 over 9 words beats
    # (0.95 * 1 + 0.5 * 8) / 9 = 0.55.
    long = [line("Please also check whether the invoice lists twelve chairs.", 0.7)]
    mixed = [line("May.", 0.95), line("Please also check whether the invoice lists twenty.", 0.5)]
    assert surer(mixed, long) is long


def test_ties_and_empty_decodes_keep_the_first() -> None:
    a, b = [line("Yes.", 0.9)], [line("Yes.", 0.9)]
    assert surer(a, b) is a
    assert surer([], []) == []
    assert surer([], b) is b  # words beat none
    assert surer(a, []) is a


def test_noisy_speech_is_suppressed_once_by_default() -> None:
    # The configuration the held-out set measured best (workers/transcribe.py, DecodeOptions.denoise).
    options = DecodeOptions()
    assert options.denoise and not options.either


def test_the_prompt_is_given_to_english_only() -> None:
    options = DecodeOptions()
    assert options.prompt and prompt_for("en", options) == options.prompt
    assert prompt_for("de", options) is None  # an English prompt would pull German towards English
    assert prompt_for("en", DecodeOptions(prompt="")) is None
