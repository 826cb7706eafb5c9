from __future__ import annotations

from sfu.layers import DownlinkBudget, LayerInfo, LayerSelector


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


def test_up_with_no_estimate_in_play_is_at_once() -> None:
    s = LayerSelector()
    assert s.choose(layers(), None, 180, 0.0) == "q"
    assert s.choose(layers(), None, 1080, 0.1) == "f"  # shown bigger: no reason to wait
    assert s.choose(layers(), 700_000, 1080, 0.2) == "h"
    assert s.choose(layers(), None, 1080, 0.3) == "f"  # the cap is gone (its own hold is the budget's)


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


def test_an_estimate_lagging_behind_a_rate_increase_is_not_congestion() -> None:
    budget = DownlinkBudget()
    # After a switch to a bigger layer the receiver's estimate trails what is sent, but climbs: no cap.
    assert budget.update(800_000, 500_000, now=0.0) is None
    for step, estimate in enumerate((850_000, 900_000, 1_000_000), start=1):
        assert budget.update(estimate, 1_500_000, now=step * 0.5) is None


def test_a_falling_estimate_below_the_rate_sent_caps_the_videos_for_a_hold() -> None:
    budget = DownlinkBudget(hold_s=8.0)
    budget.update(2_000_000, 1_500_000, now=0.0)
    assert budget.update(600_000, 1_500_000, now=0.5) == 600_000
    # The estimate recovers at once (it is capped near 1.5x of the smaller rate now): the cap holds anyway.
    assert budget.update(900_000, 600_000, now=1.0) == 600_000
    assert budget.update(900_000, 600_000, now=8.4) == 600_000
    assert budget.update(950_000, 600_000, now=8.6) is None
    # Falling while capped tightens it.
    budget.update(2_000_000, 1_500_000, now=20.0)
    assert budget.update(500_000, 1_500_000, now=20.5) == 500_000
    assert budget.update(300_000, 500_000, now=21.0) == 300_000


def test_congestion_that_returns_soon_after_a_cap_doubles_the_hold_up_to_the_limit() -> None:
    budget = DownlinkBudget(hold_s=4.0, max_hold_s=10.0)
    holds = []
    now = 0.0
    for _ in range(4):
        budget.update(2_000_000, 1_500_000, now=now)
        budget.update(500_000, 1_500_000, now=now + 0.5)
        holds.append(budget.cap_until - (now + 0.5))
        now = budget.cap_until + 1.0  # congested again one second after the cap ended
    assert holds == [4.0, 8.0, 10.0, 10.0]
    # Calm for a whole hold after a cap: the next congestion starts from the short hold again.
    assert budget.update(2_000_000, 1_500_000, now=now + 20.0) is None
    budget.update(500_000, 1_500_000, now=now + 20.5)
    assert budget.cap_until - (now + 20.5) == 4.0


def test_no_estimate_or_nothing_sent_is_no_congestion() -> None:
    budget = DownlinkBudget()
    assert budget.update(None, 1_000_000, now=0.0) is None
    assert budget.update(100_000, 0.0, now=0.5) is None
    assert budget.update(50_000, 0.0, now=1.0) is None
