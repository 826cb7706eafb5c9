"""A synthetic camera with a person in it, for Chromium's ``--use-file-for-fake-video-capture``.

Chromium's own fake camera draws a green field with a rotating pacman, which a person-segmentation model does not
take for a person (measured: ~4 % of the frame, a blob on the pacman). The virtual-background test and bench need a
picture with a clear foreground person and a busy background, so this draws one: a "kitchen" wall (shelves and
tiles in many colours) behind a head-and-shoulders figure that sways left and right. The file is YUV4MPEG2 (the
format Chromium's file capturer reads), 4:2:0, looped by Chromium.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

WIDTH, HEIGHT, FPS = 1280, 720, 30


@dataclass(frozen=True)
class PersonBox:
    """Where the figure can be in any frame (pixels of a WIDTH x HEIGHT frame): outside it is background only."""

    left: int
    top: int
    right: int
    bottom: int


SWAY = 60  # pixels left and right of centre


def person_box(width: int = WIDTH, height: int = HEIGHT) -> PersonBox:
    s = height / 720
    cx = width // 2
    return PersonBox(int(cx - 330 * s - SWAY * s), int(120 * s), int(cx + 330 * s + SWAY * s), height)


def _background(width: int, height: int) -> Image.Image:
    img = Image.new("RGB", (width, height), (214, 196, 160))
    d = ImageDraw.Draw(img)
    tile = max(8, width // 32)
    palette = [(196, 92, 60), (80, 140, 190), (230, 200, 90), (120, 170, 110), (170, 110, 170), (240, 240, 235)]
    # Wall tiles in the lower half, shelves with jars above: plenty of edges and colours for the model to ignore.
    for y in range(height // 2, height, tile):
        for x in range(0, width, tile):
            d.rectangle([x, y, x + tile - 2, y + tile - 2], fill=palette[(x // tile + 2 * (y // tile)) % len(palette)])
    for shelf in (height // 6, height // 3):
        d.rectangle([0, shelf, width, shelf + tile // 3], fill=(110, 70, 40))
        for i, x in enumerate(range(tile // 2, width - tile, tile * 2)):
            d.rectangle([x, shelf - tile, x + tile, shelf], fill=palette[(i * 5 + shelf) % len(palette)])
    return img


def _person(d: ImageDraw.ImageDraw, cx: int, height: int) -> None:
    s = height / 720
    # Shoulders and torso (a shirt), neck, face, hair, eyes, mouth: a head-and-shoulders webcam framing.
    d.rounded_rectangle([cx - 330 * s, 470 * s, cx + 330 * s, height + 40 * s], radius=int(150 * s), fill=(40, 60, 120))
    d.rectangle([cx - 55 * s, 380 * s, cx + 55 * s, 490 * s], fill=(224, 172, 140))
    d.ellipse([cx - 125 * s, 150 * s, cx + 125 * s, 440 * s], fill=(232, 180, 148))
    d.chord([cx - 135 * s, 120 * s, cx + 135 * s, 330 * s], 180, 360, fill=(60, 40, 25))
    for ex in (-55, 55):
        d.ellipse([cx + (ex - 16) * s, 262 * s, cx + (ex + 16) * s, 284 * s], fill=(255, 255, 255))
        d.ellipse([cx + (ex - 8) * s, 265 * s, cx + (ex + 8) * s, 281 * s], fill=(50, 40, 30))
    d.arc([cx - 50 * s, 330 * s, cx + 50 * s, 390 * s], 20, 160, fill=(150, 60, 60), width=max(2, int(6 * s)))


def frames(count: int = 30, width: int = WIDTH, height: int = HEIGHT) -> list[Image.Image]:
    bg = _background(width, height)
    out = []
    for i in range(count):
        img = bg.copy()
        cx = width // 2 + int(SWAY * height / 720 * math.sin(2 * math.pi * i / count))
        _person(ImageDraw.Draw(img), cx, height)
        out.append(img)
    return out


def background_image(width: int = WIDTH, height: int = HEIGHT) -> Image.Image:
    """The scene without the person (what the background region of a raw frame shows)."""
    return _background(width, height)


def write_y4m(path: Path, count: int = 30, width: int = WIDTH, height: int = HEIGHT) -> Path:
    """Write the swaying person as a YUV4MPEG2 4:2:0 file (BT.601 full range, as C420jpeg says)."""
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for img in frames(count, width, height):
            ycc = np.asarray(img.convert("YCbCr"))
            f.write(b"FRAME\n")
            f.write(ycc[:, :, 0].tobytes())
            for plane in (1, 2):
                chroma = ycc[:, :, plane].reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
                f.write(np.round(chroma).astype(np.uint8).tobytes())
    return path


# ---- comparing a picture with what it should show ---------------------------------------------------------------

BLOCK = 32  # compare 32 x 32 block means: codecs smear edges and add noise, the mean colour of a block survives


def background_blocks(width: int = WIDTH, height: int = HEIGHT) -> list[tuple[int, int]]:
    """Top-left corners of the blocks that are background in every frame (left and right of where the figure can
    sway, and above its head), at least a block away from it so the mask's feathered edge stays out."""
    box = person_box(width, height)
    out = []
    for y in range(0, height - BLOCK + 1, BLOCK):
        for x in range(0, width - BLOCK + 1, BLOCK):
            clear_sides = x + BLOCK <= box.left - BLOCK or x >= box.right + BLOCK
            clear_above = y + BLOCK <= box.top - BLOCK
            if clear_sides or clear_above:
                out.append((x, y))
    return out


def shirt_blocks(width: int = WIDTH, height: int = HEIGHT) -> list[tuple[int, int]]:
    """Blocks inside the figure's shirt in every frame (its middle, whatever the sway)."""
    s = height / 720
    cx = width // 2
    x0, x1 = int(cx - (330 - 80 - SWAY) * s), int(cx + (330 - 80 - SWAY) * s)
    y0, y1 = int(540 * s), int(700 * s)
    return [(x, y) for y in range(y0, y1 - BLOCK + 1, BLOCK) for x in range(x0, x1 - BLOCK + 1, BLOCK)]


def block_diffs(a: np.ndarray, b: np.ndarray, blocks: list[tuple[int, int]]) -> np.ndarray:
    """Per block, the largest difference of mean R, G or B between two H x W x 3 pictures (0..255)."""
    out = []
    for x, y in blocks:
        ma = a[y : y + BLOCK, x : x + BLOCK, :3].reshape(-1, 3).mean(axis=0)
        mb = b[y : y + BLOCK, x : x + BLOCK, :3].reshape(-1, 3).mean(axis=0)
        out.append(float(np.abs(ma - mb).max()))
    return np.array(out)


SHIRT = (40, 60, 120)
