from __future__ import annotations

from bench.wer import errors


def test_the_normaliser_equates_spellings_of_the_same_words() -> None:
    assert errors("Forty two so far, and more.", "42 so far and more") == (0, 5)
    assert errors("I'll phone the courier.", "I will phone the courier") == (0, 5)
    assert errors("The colour of the first report", "the color of the 1st report.") == (0, 6)
    assert errors("Did the delivery arrive?", "did the delivery arrive") == (0, 4)


def test_it_is_not_lenient_about_words() -> None:
    assert errors("twelve chairs or twenty", "12 cares or 20") == (1, 4)  # "cares" is still wrong
    assert errors("call the carrier today", "call the career") == (2, 4)  # substituted and dropped
    assert errors("hello", "hello there friend") == (2, 1)  # insertions count
    assert errors("Forty two", "42", normalise=False) == (2, 2)  # raw scoring keeps the old rule


def test_other_languages_use_the_basic_normaliser() -> None:
    assert errors("¿Dónde está la estación?", "dónde está la estación", language="es") == (0, 4)
    assert errors("Guten Morgen, Anna.", "guten morgen anne", language="de") == (1, 3)
