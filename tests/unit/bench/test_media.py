"""The media benchmark's accounting: loss is counted against what was offered, not what the forwarder sent."""

from __future__ import annotations

import pytest

from bench.media import Window, _fanouts, _routes_fanout, _routes_meeting


def _window(offered: int, expected: int, forwarded: int, received: int) -> Window:
    return Window(
        offered,
        expected,
        forwarded,
        offered,
        received,
        cpu_s=0.5,
        wall_s=2.0,
        loadgen_cpu_s=0.2,
        loadgen_wall_s=2.0,
        receivers_cpu_s=0.4,
    )


def test_loss_counts_what_the_forwarder_never_sent() -> None:
    # The forwarder passed on 90 % of what was due and every one of those arrived: 10 % lost, not 0.
    window = _window(offered=1_000, expected=10_000, forwarded=9_000, received=9_000)
    assert window.loss == pytest.approx(0.1)
    assert window.pps_per_core == 18_000
    assert window.loadgen_cores == 0.1
    assert window.receivers_cores == 0.2


def test_nothing_offered_means_nothing_lost_and_no_division_by_zero() -> None:
    assert _window(0, 0, 0, 0).loss == 0.0
    assert Window(0, 0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0).pps_per_core == 0.0


def test_each_publisher_is_due_once_per_subscriber_of_it() -> None:
    assert _fanouts(1, _routes_fanout(10)) == [10]
    assert _fanouts(5, _routes_meeting(5)) == [4, 4, 4, 4, 4]
