"""The marks drawn over a screen share, as a recording keeps them (issue 17): the API appends one JSON line per mark
added to or removed from an ``annotate:<sharer>`` document to this file in the recording's directory while it
captures (api/collab/recorded_marks.py); composition draws them over that sharer's screen (workers/screen_marks.py).

A line: ``{"at": <unix seconds, as the track captures>, "sharer": <participant id>, "op": "add" | "remove",
"mark": {"points": [[x, y], …] (fractions of the shared picture), "color": "#rrggbb", "size": <fraction of the
picture's width>, …}}``. A removal names the mark by its whole content.
"""

from __future__ import annotations

import json
from typing import Any, Literal

FILE = "annotations.jsonl"

Op = Literal["add", "remove"]


def line(at: float, sharer: str, op: Op, mark: dict[str, Any]) -> str:
    """One event as a line of the file (keys sorted: the same mark gives the same text)."""
    event = {"at": at, "sharer": sharer, "op": op, "mark": mark}
    return json.dumps(event, sort_keys=True, separators=(",", ":")) + "\n"
