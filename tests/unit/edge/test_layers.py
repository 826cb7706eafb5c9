from __future__ import annotations

from edge.layers import LayerInfo, LayerSelector


def layers(active: tuple[bool, bool, bool] = (True, True, True)) -> list[LayerInfo]:
    return [
        LayerInfo("f", 1_500_000, 720, active[2]),
        LayerInfo("q", 150_000, 180, active[0]),
        LayerInfo("h", 500_000, 360, active[1]),
    ]


def test_no_estimate_and_no_size_gets_the_best_layer() -> None:
    assert LayerSelector().choose(layers(), None, None, 0.0) == "f"


def test_the_estimate_caps_the_layer_with_headroom() -> None:
    assert LayerSelector().choose(layers(), 1_000_000, None, 0.0) == "h"
    assert LayerSelector().choose(layers(), 590_000, None, 0.0) == "q"  # 500k x 1.2 = 600k > 590k
    assert LayerSelector().choose(layers(), 10_000, None, 0.0) == "q"  # never nothing while a layer is active


def test_the_rendered_size_caps_the_layer() -> None:
    assert LayerSelector().choose(layers(), None, 180, 0.0) == "q"
    assert LayerSelector().choose(layers(), None, 200, 0.0) == "h"
    assert LayerSelector().choose(layers(), None, 1080, 0.0) == "f"


def test_down_at_once_up_after_the_hold() -> None:
    s = LayerSelector(up_hold_s=2.0)
    assert s.choose(layers(), 3_000_000, None, 0.0) == "f"
    assert s.choose(layers(), 300_000, None, 1.0) == "q"  # congestion: immediately
    assert s.choose(layers(), 3_000_000, None, 1.5) == "q"  # recovered, but wait
    assert s.choose(layers(), 3_000_000, None, 3.0) == "q"
    assert s.choose(layers(), 3_000_000, None, 3.5) == "f"  # affordable for 2 s


def test_a_dip_restarts_the_hold() -> None:
    s = LayerSelector(up_hold_s=2.0)
    assert s.choose(layers(), 300_000, None, 0.0) == "q"
    assert s.choose(layers(), 3_000_000, None, 1.0) == "q"
    assert s.choose(layers(), 700_000, None, 2.0) == "q"  # only h affordable now: f's clock is dropped
    assert s.choose(layers(), 3_000_000, None, 3.5) == "h"  # h wanted since 1.0
    assert s.choose(layers(), 3_000_000, None, 4.0) == "h"
    assert s.choose(layers(), 3_000_000, None, 5.5) == "f"


def test_paused_layers_are_skipped_and_nothing_active_means_none() -> None:
    s = LayerSelector()
    assert s.choose(layers((True, True, False)), None, None, 0.0) == "h"
    assert s.choose(layers((False, False, False)), None, None, 1.0) is None


def test_unknown_heights_rank_by_bitrate() -> None:
    raw = [LayerInfo("a", 900_000), LayerInfo("b", 100_000), LayerInfo("c", 400_000)]
    assert LayerSelector().choose(raw, 600_000, None, 0.0) == "c"
