"""Speaker-labelled transcript segments and their WebVTT / SRT renderings (pure)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Segment:
    """One utterance on the recording's timeline (seconds from the recording's start)."""

    start: float
    end: float
    speaker_id: str
    speaker_name: str
    text: str
    language: str = "en"
    """ISO 639-1 code of the language the speaker was transcribed in."""


def merge(per_speaker: list[list[Segment]]) -> list[Segment]:
    """All speakers' segments in time order (ties: earlier end, then speaker id, for a stable order)."""
    return sorted((s for segs in per_speaker for s in segs), key=lambda s: (s.start, s.end, s.speaker_id))


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _clean(text: str) -> str:
    # A blank line ends a cue in both formats, and "-->" would be read as a timing line.
    return " ".join(text.replace("-->", "->").split())


def _language(code: str) -> str:
    """A language tag safe inside cue markup (BCP 47 characters only)."""
    return re.sub(r"[^A-Za-z0-9-]", "", code)[:16]


def to_webvtt(segments: list[Segment]) -> str:
    """WebVTT with the speaker as a voice span (W3C WebVTT section 4.2.2 `<v Name>`). When the transcript holds
    more than one language, each cue's text is also a language span (`<lang de>`, same section) so players
    and screen readers pronounce and render it as that language; one language needs no markup (the player's
    `<track srclang>` says it)."""
    several = len({s.language for s in segments}) > 1
    lines = ["WEBVTT", ""]
    for i, s in enumerate(segments, 1):
        name = _clean(s.speaker_name).replace(">", "")
        text = _clean(s.text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if several and _language(s.language):
            text = f"<lang {_language(s.language)}>{text}</lang>"
        lines += [str(i), f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}", f"<v {name}>{text}", ""]
    return "\n".join(lines)


def to_srt(segments: list[Segment]) -> str:
    """SubRip, the speaker as a `Name: ` prefix (SRT has no voice markup)."""
    lines = []
    for i, s in enumerate(segments, 1):
        lines += [
            str(i),
            f"{_clock(s.start, ',')} --> {_clock(s.end, ',')}",
            f"{_clean(s.speaker_name)}: {_clean(s.text)}",
            "",
        ]
    return "\n".join(lines)


def to_json(segments: list[Segment]) -> str:
    return json.dumps([asdict(s) for s in segments], indent=1)


def from_json(text: str) -> list[Segment]:
    return [Segment(**d) for d in json.loads(text)]
