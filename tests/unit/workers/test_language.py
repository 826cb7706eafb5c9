from __future__ import annotations

from workers.language import CONFIDENT, meeting_language, speaker_languages


def test_an_unsure_speaker_takes_the_meetings_language() -> None:
    # Accented English in noise detected as Welsh, unsure; the other speaker English: both English.
    votes = [{"cy": 0.58, "en": 0.37, "la": 0.02}, {"en": 0.61, "cy": 0.34, "nn": 0.03}]
    assert meeting_language(votes) == "en"
    assert speaker_languages(votes) == ["en", "en"]


def test_confident_speakers_keep_their_own_language() -> None:
    votes = [{"de": 0.98, "en": 0.01}, {"es": 0.97, "en": 0.01}, {"en": 0.22, "vi": 0.19, "tl": 0.15}]
    # The third is unsure: it takes the meeting's, the most likely over all three (de 0.33, es 0.32, en 0.08).
    assert speaker_languages(votes) == ["de", "es", "de"]
    assert speaker_languages([{"fr": CONFIDENT}]) == ["fr"]


def test_no_speech_and_ties_are_stable() -> None:
    assert speaker_languages([None, None]) == ["en", "en"]
    assert speaker_languages([None, {"de": 0.9}]) == ["de", "de"]
    assert meeting_language([], default="es") == "es"
    assert meeting_language([{"de": 0.5, "en": 0.5}]) == meeting_language([{"en": 0.5, "de": 0.5}]) == "de"
