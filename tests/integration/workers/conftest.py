"""A synthetic two-person recording shared by the worker tests (generated once per session, ~0.5 s)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workers.synthetic import AudioSpec, ParticipantSpec, VideoSpec, write_recording

ALICE_TEXT = "Hello everyone, welcome to the weekly planning meeting."
BOB_TEXT = "Thank you. The report is ready and the budget looks good."
RED, BLUE, GREEN = (220, 30, 30), (30, 30, 220), (30, 200, 30)


def participants() -> list[ParticipantSpec]:
    return [
        # Alice: camera for 6 s, switching from 16:9 to a square at 2 s; speaks first; mic muted 4-5 s.
        ParticipantSpec(
            "alice",
            "Alice",
            video=VideoSpec(RED, start=0.0, duration=6.0, resize_at=2.0, resize_to=(240, 240)),
            audio=AudioSpec(start=0.0, duration=6.0, text=ALICE_TEXT, mutes=[(4.0, 5.0)]),
        ),
        # Bob joins late (1 s) and shares his screen from 2.5 s to 4.5 s.
        ParticipantSpec(
            "bob",
            "Bob",
            video=VideoSpec(BLUE, start=1.0, duration=5.0),
            audio=AudioSpec(start=1.0, duration=5.0, text=BOB_TEXT),
            screen=VideoSpec(GREEN, start=2.5, duration=2.0, size=(480, 270), fps=5, source="screen"),
        ),
    ]


@pytest.fixture(scope="session")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_recording(tmp_path_factory.mktemp("rec"), participants())


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word-level Levenshtein distance over the reference length."""
    ref, hyp = words(reference), words(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / max(1, len(ref))
