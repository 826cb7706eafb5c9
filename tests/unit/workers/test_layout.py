from __future__ import annotations

import itertools

import pytest

from workers.layout import Rect, featured, fit, gallery, grid


def _overlap(a: Rect, b: Rect) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


@pytest.mark.parametrize("n", range(1, 26))
@pytest.mark.parametrize("size", [(1280, 720), (640, 360), (1920, 1080)])
def test_grid_tiles_are_inside_even_and_disjoint(n: int, size: tuple[int, int]) -> None:
    w, h = size
    tiles = grid(n, w, h)
    assert len(tiles) == n
    for r in tiles:
        assert r.x >= 0 and r.y >= 0 and r.x + r.w <= w and r.y + r.h <= h
        assert r.x % 2 == r.y % 2 == r.w % 2 == r.h % 2 == 0
    assert not any(_overlap(a, b) for a, b in itertools.combinations(tiles, 2))


def test_grid_shapes() -> None:
    assert grid(2, 1280, 720) == [Rect(0, 0, 640, 720), Rect(640, 0, 640, 720)]
    assert len({r.y for r in grid(4, 1280, 720)}) == 2
    assert grid(0, 1280, 720) == []


def test_featured_puts_main_on_top_and_others_in_a_strip() -> None:
    tiles = featured("s", ["a", "b", "s"], 1280, 720)
    assert tiles["s"] == Rect(0, 0, 1280, 576)
    assert tiles["a"].y == tiles["b"].y == 576 and tiles["a"].h == 144
    assert not _overlap(tiles["a"], tiles["b"])
    assert featured(None, ["a", "b"], 1280, 720) == gallery(["a", "b"], 1280, 720)
    assert featured("a", ["a"], 1280, 720) == {"a": Rect(0, 0, 1280, 720)}


@pytest.mark.parametrize("src", [(320, 180), (240, 240), (1080, 1920), (641, 361)])
def test_fit_keeps_aspect_and_stays_in_box(src: tuple[int, int]) -> None:
    box = Rect(100, 50, 640, 360)
    r = fit(*src, box)
    assert box.x <= r.x and r.x + r.w <= box.x + box.w and box.y <= r.y and r.y + r.h <= box.y + box.h
    assert abs(r.w / r.h - src[0] / src[1]) < 0.05
    assert r.w == box.w or r.h == box.h or abs(r.w - box.w) <= 2 or abs(r.h - box.h) <= 2
