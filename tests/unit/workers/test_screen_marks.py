"""Marks over a screen share as intervals of recorded time, and drawn into yuv420p planes (workers/screen_marks.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workers.layout import Rect
from workers.screen_marks import FADE_S, FILE, SHOW_S, Mark, draw, read_marks, rgb_to_yuv
from workers.timeline import Timeline

T = 1_800_000_000.0
MARK = {"color": "#1a7f37", "size": 0.01, "points": [[0.25, 0.5], [0.75, 0.5]]}


def write(tmp: Path, events: list[dict[str, object]], tail: str = "") -> Path:
    (tmp / FILE).write_text("".join(json.dumps(e) + "\n" for e in events) + tail)
    return tmp


def test_no_file_no_marks(tmp_path: Path) -> None:
    assert read_marks(tmp_path, Timeline(((T, T + 60),))) == []


def test_a_mark_shows_for_its_time_then_fades_and_a_pause_is_cut(tmp_path: Path) -> None:
    # Recorded T..T+10, paused, then T+20..T+40: a mark added at T+25 is at recorded second 15.
    tl = Timeline(((T, T + 10), (T + 20, T + 40)))
    rec = write(tmp_path, [{"at": T + 25, "sharer": "p1", "op": "add", "mark": MARK}])
    (m,) = read_marks(rec, tl)
    assert (m.sharer, m.start, m.end) == ("p1", 15.0, 15.0 + SHOW_S + FADE_S)
    assert m.opacity(14.9) == 0 and m.opacity(15.0) == 1 and m.opacity(15 + SHOW_S - 0.01) == 1
    assert m.opacity(15 + SHOW_S + FADE_S / 2) == pytest.approx(0.5)
    assert m.opacity(15 + SHOW_S + FADE_S) == 0
    assert m.yuv == rgb_to_yuv((0x1A, 0x7F, 0x37)) and m.width == 0.01


def test_removal_ends_the_mark_that_has_the_same_content(tmp_path: Path) -> None:
    other = {**MARK, "points": [[0.1, 0.1], [0.2, 0.2]]}
    events = [
        {"at": T + 1, "sharer": "p1", "op": "add", "mark": MARK},
        {"at": T + 1, "sharer": "p1", "op": "add", "mark": other},
        {"at": T + 2.5, "sharer": "p1", "op": "remove", "mark": MARK},
        {"at": T + 3, "sharer": "p2", "op": "remove", "mark": other},  # another sharer's: not this one
    ]
    marks = read_marks(write(tmp_path, events), Timeline(((T, T + 60),)))
    assert sorted((m.points[0], m.end) for m in marks) == [
        ((0.1, 0.1), 1 + SHOW_S + FADE_S),
        ((0.25, 0.5), 2.5),
    ]


@pytest.mark.parametrize(
    "bad",
    [
        {"points": []},
        {"points": [[0.1, "x"]]},
        {"points": [[float("nan"), 0.1]]},
        {"points": "0.1,0.2"},
    ],
)
def test_what_is_not_a_mark_is_skipped_and_the_rest_kept(tmp_path: Path, bad: dict[str, object]) -> None:
    events = [
        {"at": T + 1, "sharer": "p1", "op": "add", "mark": bad},
        {"at": T + 2, "sharer": "p1", "op": "add", "mark": MARK},
    ]
    marks = read_marks(write(tmp_path, events, tail='{"at": 5, "sharer'), Timeline(((T, T + 60),)))
    assert [m.start for m in marks] == [2.0]


def test_odd_colours_and_sizes_fall_back_to_the_defaults(tmp_path: Path) -> None:
    odd = {"color": "red; drop", "size": 5, "points": [[0.5, 0.5]]}
    (m,) = read_marks(write(tmp_path, [{"at": T, "sharer": "p", "op": "add", "mark": odd}]), Timeline(((T, T + 9),)))
    assert m.yuv == rgb_to_yuv((0xD1, 0x24, 0x2F)) and m.width == 0.006 and m.points == ((0.5, 0.5),)


def planes(w: int, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.full((h, w), 16, np.uint8),
        np.full((h // 2, w // 2), 128, np.uint8),
        np.full((h // 2, w // 2), 128, np.uint8),
    )


def test_a_mark_lands_on_the_same_spot_of_the_picture_at_any_tile_size() -> None:
    mark = Mark("p", 0, 7, ((0.25, 0.5), (0.75, 0.5)), rgb_to_yuv((255, 255, 255)), 0.02)
    for rect in (Rect(10, 20, 200, 100), Rect(100, 40, 400, 200)):
        y, u, v = planes(640, 360)
        draw(y, u, v, rect, mark, 1.0)
        row = rect.y + rect.h // 2
        inked = np.nonzero(y[row] > 200)[0]
        assert inked.min() == pytest.approx(rect.x + 0.25 * rect.w, abs=rect.w * 0.02)
        assert inked.max() == pytest.approx(rect.x + 0.75 * rect.w, abs=rect.w * 0.02)
        assert (y[: rect.y] == 16).all() and (y[rect.y + rect.h :] == 16).all()  # nothing outside the picture
        assert y[rect.y + rect.h // 4, rect.x + rect.w // 2] == 16  # away from the line


def test_half_faded_ink_is_half_blended_and_stays_inside_the_picture() -> None:
    mark = Mark("p", 0, 7, ((-0.5, 0.5), (1.5, 0.5)), rgb_to_yuv((255, 255, 255)), 0.05)  # runs off both sides
    y, u, v = planes(320, 180)
    rect = Rect(40, 40, 200, 100)
    draw(y, u, v, rect, mark, 0.5)
    row = y[90]
    assert row[40:240].min() >= 120 and row[40:240].max() <= 130  # 16 + (235 - 16) / 2
    assert (row[:40] == 16).all() and (row[240:] == 16).all()
