"""Name labels on composed video tiles: a participant's display name, white on a dark band, bottom left.

Rendered once per (name, size) with Pillow (DejaVu Sans when installed, else Pillow's bundled font) into a coverage
mask; the composer darkens the band and blends the text into the luma plane with numpy, so a label costs a
few slice operations per frame.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

MIN_HEIGHT = 12
"""Below this a band has no room for legible text: no label."""
MAX_CHARS = 80
"""Longer names are cut before measuring (a tile never shows more)."""
FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")
"""Preferred: DejaVu covers Latin, Greek and Cyrillic names; Pillow's bundled font (the fallback) is ASCII."""


@functools.lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONTS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


@dataclass(frozen=True, slots=True)
class Label:
    mask: np.ndarray
    """Text coverage 0..1, (height, width) of the band; both even (chroma is subsampled)."""


@functools.lru_cache(maxsize=256)
def label(name: str, max_width: int, height: int) -> Label | None:
    """The band for `name` at most `max_width` wide, `height` tall (even sizes); None if it cannot fit."""
    height -= height % 2
    if height < MIN_HEIGHT or max_width < 2 * height:
        return None
    size = max(8, round(height * 0.7))
    font = _font(size)
    pad = max(2, height // 4)
    text = " ".join(name.split())[:MAX_CHARS] or "?"
    # Shorten a name that does not fit, keeping its start (the given name people look for): the longest
    # prefix that fits with an ellipsis, by bisection (each measurement lays out the text).
    if font.getlength(text) + 2 * pad > max_width:
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if font.getlength(text[:mid] + "…") + 2 * pad <= max_width:
                lo = mid
            else:
                hi = mid - 1
        text = text[:lo] + "…" if lo else ""
    if not text:
        return None
    width = min(max_width, round(font.getlength(text)) + 2 * pad)
    width -= width % 2
    img = Image.new("L", (width, height), 0)
    ImageDraw.Draw(img).text((pad, height / 2), text, fill=255, font=font, anchor="lm")
    return Label(np.asarray(img, np.float32) / 255.0)


def draw(y: np.ndarray, u: np.ndarray, v: np.ndarray, lab: Label, x0: int, y0: int) -> None:
    """Blend `lab` into the planes of a yuv420p picture with its top-left corner at (x0, y0) (even)."""
    h, w = lab.mask.shape
    band = y[y0 : y0 + h, x0 : x0 + w].astype(np.float32)
    band = band * 0.35 + (235.0 - band * 0.35) * lab.mask  # darken, then white text over it
    y[y0 : y0 + h, x0 : x0 + w] = band.astype(np.uint8)
    u[y0 // 2 : (y0 + h) // 2, x0 // 2 : (x0 + w) // 2] = 128
    v[y0 // 2 : (y0 + h) // 2, x0 // 2 : (x0 + w) // 2] = 128
