"""Marks drawn over a screen share, burnt into the composed recording (issue 17: "recordings of the meeting include
the annotations over the shared screen").

While a recording captures, the API appends each mark added to or removed from an ``annotate:<sharer>`` document to
``annotations.jsonl`` in the recording's directory (``api/collab/recorded_marks.py``), stamped with wall-clock time
like the track captures. Here each mark becomes an interval of recorded time (pauses cut by the same
``workers.timeline`` as the tracks): shown from when it was added for ``SHOW_S``, fading out over ``FADE_S`` - as
every viewer saw it (``web/collab/annotate.js``) - or until someone removed it earlier (Clear). Its points are
fractions of the shared picture, so it is drawn into the rectangle the picture occupies in its tile.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from protocol import screen_marks as screen_marks_file
from workers.layout import Rect
from workers.timeline import Timeline

log = logging.getLogger(__name__)

FILE = screen_marks_file.FILE
SHOW_S = 6.0
"""As ``FADE_MS`` in web/collab/annotate.js."""
FADE_S = 1.0
"""As ``FADE_OUT_MS`` in web/collab/annotate.js."""
LINE = 0.006
"""A mark's default width, a fraction of the picture's width (``LINE`` in web/collab/annotate.js)."""
MIN_WIDTH_PX = 2.0
MAX_POINTS = 5000
_COLOUR = re.compile(r"#([0-9a-fA-F]{6})")
DEFAULT_RGB = (0xD1, 0x24, 0x2F)


@dataclass(frozen=True, slots=True)
class Mark:
    sharer: str
    """The participant whose screen it was drawn on (the screen track's participant id)."""
    start: float
    """Recorded seconds."""
    end: float
    points: tuple[tuple[float, float], ...]
    """Fractions (0..1) of the shared picture's width and height."""
    yuv: tuple[int, int, int]
    width: float
    """Fraction of the picture's width."""

    def opacity(self, t: float) -> float:
        if not self.start <= t < self.end:
            return 0.0
        fading_from = self.start + SHOW_S
        return 1.0 if t < fading_from else max(0.0, 1.0 - (t - fading_from) / FADE_S)


def rgb_to_yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """BT.601 limited range, as the encoder's yuv420p frames are."""
    r, g, b = rgb
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    return round(y), round(u), round(v)


def _parse(raw: dict[str, Any]) -> tuple[tuple[tuple[float, float], ...], tuple[int, int, int], float] | None:
    points = raw.get("points")
    if not isinstance(points, list) or not points:
        return None
    pts: list[tuple[float, float]] = []
    for p in points[:MAX_POINTS]:
        if not (isinstance(p, list) and len(p) >= 2 and all(isinstance(c, int | float) for c in p[:2])):
            return None
        x, y = float(p[0]), float(p[1])
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        pts.append((x, y))
    colour = raw.get("color")
    found = _COLOUR.fullmatch(colour) if isinstance(colour, str) else None
    rgb = tuple(bytes.fromhex(found.group(1))) if found else DEFAULT_RGB
    size = raw.get("size")
    width = float(size) if isinstance(size, int | float) and 0 < size <= 0.1 else LINE
    return tuple(pts), rgb_to_yuv(rgb), width  # type: ignore[arg-type]


def read_marks(recording_dir: str | Path, tl: Timeline) -> list[Mark]:
    """The marks of ``annotations.jsonl`` as intervals of recorded time; none when there is no file. A line that
    is not a mark (a torn last line, a bad value) is skipped with a warning: one bad mark must not fail a
    recording."""
    path = Path(recording_dir) / FILE
    if not path.exists():
        return []
    opened: dict[tuple[str, str], list[tuple[float, dict[str, Any]]]] = defaultdict(list)
    marks: list[Mark] = []

    def close(sharer: str, key: str, at: float | None) -> None:
        started = opened[(sharer, key)]
        if not started:
            return
        when, raw = started.pop(0)
        parsed = _parse(raw)
        if parsed is None:
            log.warning("skipping an annotation that is not a mark: %.80s", key)
            return
        start = tl.to_recorded(when)
        end = start + SHOW_S + FADE_S
        if at is not None:
            end = min(end, tl.to_recorded(at))
        if end > start:
            marks.append(Mark(sharer, start, end, *parsed))

    for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        try:
            event = json.loads(line)
            at, sharer, op, mark = float(event["at"]), str(event["sharer"]), event["op"], event["mark"]
            key = json.dumps(mark, sort_keys=True)
        except (ValueError, KeyError, TypeError):
            log.warning("skipping line %d of %s: not an annotation event", n, path)
            continue
        if op == "add":
            opened[(sharer, key)].append((at, mark))
        elif op == "remove":
            close(sharer, key, at)
    for sharer, key in list(opened):
        while opened[(sharer, key)]:
            close(sharer, key, None)
    return sorted(marks, key=lambda m: m.start)


def digest_input(recording_dir: str | Path) -> bytes:
    """The marks file's bytes (part of the composition's input digest), or nothing."""
    path = Path(recording_dir) / FILE
    return path.read_bytes() if path.exists() else b""


def draw(y: np.ndarray, u: np.ndarray, v: np.ndarray, rect: Rect, mark: Mark, opacity: float) -> None:
    """Draw ``mark`` into yuv420p planes (full-size ``y``, half-size ``u`` and ``v``) inside ``rect``, the
    picture's place in the frame: round-capped segments, alpha-blended, clipped to ``rect``."""
    if opacity <= 0 or rect.w <= 0 or rect.h <= 0:
        return
    radius = max(MIN_WIDTH_PX, mark.width * rect.w) / 2
    pts = [(rect.x + px * rect.w, rect.y + py * rect.h) for px, py in mark.points]
    if len(pts) == 1:
        pts = pts * 2
    x0, y0 = max(rect.x, 0), max(rect.y, 0)
    x1, y1 = min(rect.x + rect.w, y.shape[1]), min(rect.y + rect.h, y.shape[0])
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    bx0, bx1 = max(x0, int(min(xs) - radius - 1)), min(x1, int(max(xs) + radius + 2))
    by0, by1 = max(y0, int(min(ys) - radius - 1)), min(y1, int(max(ys) + radius + 2))
    if bx0 >= bx1 or by0 >= by1:
        return
    # Distance of every pixel centre in the mark's bounding box to the polyline: inside the radius is ink.
    gy, gx = np.mgrid[by0:by1, bx0:bx1].astype(np.float32) + 0.5
    dist = np.full(gx.shape, np.inf, np.float32)
    for (ax, ay), (cx, cy) in itertools.pairwise(pts):
        dx, dy = cx - ax, cy - ay
        length2 = dx * dx + dy * dy
        if length2 == 0:
            d = np.hypot(gx - ax, gy - ay)
        else:
            s = np.clip(((gx - ax) * dx + (gy - ay) * dy) / length2, 0.0, 1.0)
            d = np.hypot(gx - (ax + s * dx), gy - (ay + s * dy))
        np.minimum(dist, d, out=dist)
    alpha = np.clip(radius + 0.5 - dist, 0.0, 1.0) * opacity  # one pixel of anti-aliasing at the edge
    if not alpha.any():
        return
    region = y[by0:by1, bx0:bx1]
    region[:] = (region * (1 - alpha) + mark.yuv[0] * alpha).round().astype(np.uint8)
    # Chroma at half resolution: each 2x2 block takes its strongest alpha (a thin line still colours it).
    cy0, cy1, cx0, cx1 = by0 // 2, (by1 + 1) // 2, bx0 // 2, (bx1 + 1) // 2
    full = np.zeros(((cy1 - cy0) * 2, (cx1 - cx0) * 2), np.float32)
    full[by0 - cy0 * 2 : by0 - cy0 * 2 + alpha.shape[0], bx0 - cx0 * 2 : bx0 - cx0 * 2 + alpha.shape[1]] = alpha
    a2 = full.reshape(cy1 - cy0, 2, cx1 - cx0, 2).max(axis=(1, 3))
    for plane, value in ((u, mark.yuv[1]), (v, mark.yuv[2])):
        sub = plane[cy0:cy1, cx0:cx1]
        a = a2[: sub.shape[0], : sub.shape[1]]
        sub[:] = (sub * (1 - a) + value * a).round().astype(np.uint8)
