"""Where each video goes on the composed canvas: pure layout maths, no media."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int


def _even(v: float) -> int:
    """yuv420p planes are subsampled by 2, so every edge lies on an even pixel."""
    return int(v) // 2 * 2


def grid(n: int, width: int, height: int, x0: int = 0, y0: int = 0) -> list[Rect]:
    """`n` equal tiles, as square a grid as possible, filling rows left to right."""
    if n <= 0:
        return []
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    tw, th = _even(width / cols), _even(height / rows)
    return [Rect(x0 + (i % cols) * tw, y0 + (i // cols) * th, tw, th) for i in range(n)]


def gallery(ids: list[str], width: int, height: int) -> dict[str, Rect]:
    return dict(zip(ids, grid(len(ids), width, height), strict=True))


def featured(main: str | None, others: list[str], width: int, height: int, max_others: int = 4) -> dict[str, Rect]:
    """One large video (active speaker or screen share) above a strip of up to `max_others` small ones."""
    if main is None:
        return gallery(others, width, height)
    others = [o for o in others if o != main][:max_others]
    if not others:
        return {main: Rect(0, 0, _even(width), _even(height))}
    strip = _even(height / 5)
    tiles = {main: Rect(0, 0, _even(width), _even(height - strip))}
    tw = _even(min(width / len(others), strip * 16 / 9))
    x0 = _even((width - tw * len(others)) / 2)
    for i, o in enumerate(others):
        tiles[o] = Rect(x0 + i * tw, _even(height - strip), tw, strip)
    return tiles


def fit(src_w: int, src_h: int, box: Rect) -> Rect:
    """The largest rectangle of the source's aspect ratio centred in `box` (letterbox or pillarbox)."""
    scale = min(box.w / src_w, box.h / src_h)
    w, h = max(2, _even(src_w * scale)), max(2, _even(src_h * scale))
    return Rect(box.x + _even((box.w - w) / 2), box.y + _even((box.h - h) / 2), w, h)
