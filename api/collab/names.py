"""Document names: ``notes`` (the meeting's shared notes) or ``board:<room>`` (a whiteboard; ``main`` for the
main room, else a breakout room id)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.errors import BadInputError

MAIN = "main"
_ROOM = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclass(frozen=True, slots=True)
class DocName:
    kind: str
    """``notes`` or ``board``."""
    room: str | None = None
    """For a board: ``main`` or a breakout room id."""

    def __str__(self) -> str:
        return self.kind if self.room is None else f"{self.kind}:{self.room}"

    @property
    def breakout_room(self) -> str | None:
        """The breakout room this document belongs to, None for the main room's and the meeting's."""
        return self.room if self.room not in (None, MAIN) else None


def parse(text: str) -> DocName:
    if text == "notes":
        return DocName("notes")
    kind, sep, room = text.partition(":")
    if kind == "board" and sep and _ROOM.fullmatch(room):
        return DocName("board", room)
    raise BadInputError("doc", f"a document is `notes` or `board:<room id or main>` (got {text[:60]!r})")
