from __future__ import annotations

import re

from workers.captions import Segment, from_json, merge, to_json, to_srt, to_webvtt

SEGS = [
    Segment(0.0, 2.5, "a", "Alice", "Hello everyone."),
    Segment(3661.25, 3662.0, "b", "Bob <admin>", "Costs < 5 & more --> less\n\nok"),
]

VTT_TIMING = re.compile(r"^(\d{2}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2}):(\d{2}):(\d{2})\.(\d{3})$")
SRT_TIMING = re.compile(r"^(\d{2}):(\d{2}):(\d{2}),(\d{3}) --> (\d{2}):(\d{2}):(\d{2}),(\d{3})$")


def _seconds(g: tuple[str, ...]) -> tuple[float, float]:
    h, m, s, ms, h2, m2, s2, ms2 = map(int, g)
    return h * 3600 + m * 60 + s + ms / 1000, h2 * 3600 + m2 * 60 + s2 + ms2 / 1000


def parse_cues(text: str, timing: re.Pattern[str]) -> list[tuple[float, float, str]]:
    """A small parser of the cue blocks: blank-line separated, an id line, a timing line, payload lines."""
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        if lines == ["WEBVTT"]:
            continue
        assert lines[0].isdigit(), block
        m = timing.match(lines[1])
        assert m, lines[1]
        start, end = _seconds(m.groups())
        cues.append((start, end, "\n".join(lines[2:])))
    return cues


def test_webvtt_parses_back_with_voice_spans_and_escapes() -> None:
    text = to_webvtt(SEGS)
    assert text.startswith("WEBVTT\n\n")
    cues = parse_cues(text, VTT_TIMING)
    assert [(c[0], c[1]) for c in cues] == [(0.0, 2.5), (3661.25, 3662.0)]
    assert cues[0][2] == "<v Alice>Hello everyone."
    # The payload stays one line, without "-->" or raw "<", "&"; the voice name loses ">".
    assert cues[1][2] == "<v Bob <admin>Costs &lt; 5 &amp; more -&gt; less ok"


def test_srt_parses_back_with_speaker_prefix() -> None:
    cues = parse_cues(to_srt(SEGS), SRT_TIMING)
    assert [(c[0], c[1]) for c in cues] == [(0.0, 2.5), (3661.25, 3662.0)]
    assert cues[0][2] == "Alice: Hello everyone."
    assert cues[1][2].startswith("Bob <admin>: Costs < 5")


def test_merge_orders_by_time_across_speakers() -> None:
    a = [Segment(0, 1, "a", "A", "one"), Segment(5, 6, "a", "A", "three")]
    b = [Segment(2, 3, "b", "B", "two"), Segment(5, 5.5, "b", "B", "2.5")]
    assert [s.text for s in merge([a, b])] == ["one", "two", "2.5", "three"]


def test_json_round_trip() -> None:
    assert from_json(to_json(SEGS)) == SEGS


def test_webvtt_marks_each_cue_language_when_the_transcript_has_several() -> None:
    mixed = [
        Segment(0.0, 1.0, "a", "Ana", "Buenos días.", language="es"),
        Segment(1.5, 2.0, "b", "Ben", "Morning.", language="en"),
        Segment(2.5, 3.0, "c", "Cy", "Guten Tag.", language='de"><script>'),  # a tag is data, never markup
    ]
    cues = parse_cues(to_webvtt(mixed), VTT_TIMING)
    assert [c[2] for c in cues] == [
        "<v Ana><lang es>Buenos días.</lang>",
        "<v Ben><lang en>Morning.</lang>",
        "<v Cy><lang descript>Guten Tag.</lang>",
    ]
    # One language: no markup (the player's <track srclang> says it).
    assert "<lang" not in to_webvtt([Segment(0.0, 1.0, "a", "A", "Hola.", language="es")])
    assert from_json(to_json(mixed)) == mixed
