from __future__ import annotations

import numpy as np

from workers.label import draw, label


def test_a_label_fits_and_differs_by_name() -> None:
    a, b = label("Grace Hopper", 300, 16), label("Hal", 300, 16)
    assert a is not None and b is not None
    assert a.mask.shape[0] == 16 and a.mask.shape[1] % 2 == 0 and a.mask.shape[1] <= 300
    assert a.mask.shape[1] > b.mask.shape[1]  # a longer name, a longer band
    assert a.mask.max() > 0.9 and 0.05 < a.mask.mean() < 0.6  # text, not a filled box


def test_long_names_are_shortened_and_tiny_tiles_get_none() -> None:
    long = label("Maximiliane Wilhelmina von Hohenzollern-Sigmaringen", 120, 16)
    assert long is not None and long.mask.shape[1] <= 120
    assert label("Hal", 30, 16) is None  # narrower than the text can be
    assert label("Hal", 300, 8) is None  # too short to read
    assert label("   ", 300, 16) is not None  # a blank name still marks the tile ("?")


def test_unicode_and_control_characters_do_not_break_rendering() -> None:
    for name in ("Ingrid Ålström-Łukasiewicz", "Δημήτρης", "Юлия", "山田太郎", "a\tb\nc", "😀", "x" * 10_000):
        lab = label(name, 200, 14)
        assert lab is None or lab.mask.shape[1] <= 200


def test_draw_darkens_the_band_and_neutralises_its_colour() -> None:
    y = np.full((40, 80), 180, np.uint8)
    u = np.full((20, 40), 90, np.uint8)
    v = np.full((20, 40), 200, np.uint8)
    lab = label("Eve", 60, 14)
    assert lab is not None
    draw(y, u, v, lab, 2, 20)
    h, w = lab.mask.shape
    assert y[20 : 20 + h, 2 : 2 + w].min() < 100 and y[20 : 20 + h, 2 : 2 + w].max() > 200
    assert (u[10 : 10 + h // 2, 1 : 1 + w // 2] == 128).all() and (y[:20] == 180).all()


def test_a_huge_name_is_cut_quickly() -> None:
    # A sidecar's display name is not bounded by the capture format: measuring must not grow with it.
    import time

    start = time.perf_counter()
    lab = label("W" * 100_000, 300, 16)
    assert lab is not None and lab.mask.shape[1] <= 300
    assert time.perf_counter() - start < 1.0
