"""Document names: ``notes`` (the meeting's shared notes), ``board:<room>`` (a whiteboard; ``main`` for the
main room, else a breakout room id) or ``annotate:<participantId>`` (the marks drawn over that participant's
screen share)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.errors import BadInputError

MAIN = "main"
_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_KINDS = ("board", "annotate")


@dataclass(frozen=True, slots=True)
class DocName:
    kind: str
    """``notes``, ``board`` or ``annotate``."""
    room: str | None = None
    """For a board: ``main`` or a breakout room id. For an annotation: the sharing participant's id."""

    def __str__(self) -> str:
        return self.kind if self.room is None else f"{self.kind}:{self.room}"

    @property
    def breakout_room(self) -> str | None:
        """The breakout room a board belongs to, None for the main room's, the notes and annotations (whose room
        is wherever the sharer is: api/collab/access.py)."""
        return self.room if self.kind == "board" and self.room != MAIN else None

    @property
    def sharer(self) -> str | None:
        """For an annotation document: the participant whose screen share it marks up."""
        return self.room if self.kind == "annotate" else None


def parse(text: str) -> DocName:
    if text == "notes":
        return DocName("notes")
    kind, sep, ident = text.partition(":")
    if kind in _KINDS and sep and _ID.fullmatch(ident):
        return DocName(kind, ident)
    raise BadInputError(
        "doc", f"a document is `notes`, `board:<room id or main>` or `annotate:<participant id>` (got {text[:60]!r})"
    )
