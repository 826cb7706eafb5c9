"""Marks drawn over a screen share go into the recordings capturing that screen (issue 17).

A mark is one Y.Map in the Y.Array ``strokes`` of the document ``annotate:<sharer>`` (web/collab/annotate.js):
added when its author lifts the pen, deleted when it has faded or someone clears. When a peer's update changes
that array, the marks added and removed (compared by content) are appended to ``annotations.jsonl`` in the
directory of every recording capturing the sharer's room now (protocol/screen_marks.py), stamped with the server's
wall clock - the clock the edges stamp the track captures with - and composition draws them over that screen
(workers/screen_marks.py). Only the process that received the update writes it, so with several API processes a
mark is written once. A paused recording gets nothing: paused time is cut from it anyway.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pycrdt import Array, Doc
from sqlalchemy import select

from api.recordings.service import CAPTURING, recording_dir
from api.services import Services
from dbschema.models import Participant
from dbschema.recordings import Recording
from protocol import screen_marks

log = logging.getLogger(__name__)

PREFIX = "annotate:"
STROKES = "strokes"


def is_marks_document(name: str) -> bool:
    return name.startswith(PREFIX)


def marks_of(doc: Doc[Any]) -> Counter[str]:
    """Each mark now in the document, as its canonical JSON (a multiset: two identical marks count twice)."""
    strokes = doc.get(STROKES, type=Array)
    return Counter(json.dumps(m.to_py(), sort_keys=True) for m in strokes if hasattr(m, "to_py"))


class MarkRecorder:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def changed(self, meeting_id: str, name: str, before: Counter[str], after: Counter[str]) -> None:
        added, removed = after - before, before - after
        if not added and not removed:
            return
        at = time.time()
        sharer = name.removeprefix(PREFIX)
        targets = await self._capturing(meeting_id, sharer)
        if not targets:
            return
        changes: list[tuple[screen_marks.Op, Counter[str]]] = [("add", added), ("remove", removed)]
        text = "".join(
            screen_marks.line(at, sharer, op, json.loads(mark)) for op, marks in changes for mark in marks.elements()
        )
        # Appends on shared storage may be slow: off the event loop.
        await asyncio.to_thread(_append, [recording_dir(self.svc, rid) / screen_marks.FILE for rid in targets], text)

    async def _capturing(self, meeting_id: str, sharer: str) -> list[str]:
        """The recordings capturing the room the sharer is in now (the main room's, or their breakout room's)."""
        room = select(Participant.breakout_room_id).where(Participant.id == sharer).scalar_subquery()
        q = select(Recording.id).where(
            Recording.meeting_id == meeting_id,
            Recording.status == CAPTURING,
            Recording.breakout_room_id.is_not_distinct_from(room),
        )
        async with self.svc.db.read() as session:
            return list((await session.scalars(q)).all())


def _append(paths: list[Path], text: str) -> None:
    for path in paths:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.write(text)
        except OSError:
            log.exception("could not record screen marks in %s", path)  # the meeting goes on; the mark is lost
