from __future__ import annotations

import pytest

from sfu.bandwidth import BandwidthEstimate


def test_nothing_reported_means_no_limit() -> None:
    estimate = BandwidthEstimate()
    assert estimate.bitrate_bps is None
    estimate.on_receiver_report(fraction_lost=0, jitter=0, clock_rate=90_000, lsr=0, dlsr=0, now=1.0)
    assert estimate.bitrate_bps is None and estimate.reports == 1


def test_remb_is_the_estimate_while_there_is_no_loss() -> None:
    estimate = BandwidthEstimate()
    estimate.on_remb(800_000)
    assert estimate.bitrate_bps == 800_000
    estimate.on_receiver_report(fraction_lost=0, jitter=900, clock_rate=90_000, lsr=0, dlsr=0, now=1.0)
    assert estimate.bitrate_bps == 800_000  # the increase is capped at the REMB
    assert estimate.jitter_s == pytest.approx(0.01)


def test_heavy_loss_cuts_below_remb_and_recovers_gradually() -> None:
    estimate = BandwidthEstimate()
    estimate.on_remb(1_000_000)
    estimate.on_receiver_report(fraction_lost=64, jitter=0, clock_rate=90_000, lsr=0, dlsr=0, now=1.0)  # 25%
    assert estimate.fraction_lost == 0.25
    assert estimate.bitrate_bps == pytest.approx(875_000)
    estimate.on_receiver_report(fraction_lost=13, jitter=0, clock_rate=90_000, lsr=0, dlsr=0, now=2.0)  # ~5%: hold
    assert estimate.bitrate_bps == pytest.approx(875_000)
    estimate.on_receiver_report(fraction_lost=0, jitter=0, clock_rate=90_000, lsr=0, dlsr=0, now=3.0)
    assert estimate.bitrate_bps == pytest.approx(875_000 * 1.05)


def test_loss_without_remb_starts_from_the_initial_value_and_has_a_floor() -> None:
    estimate = BandwidthEstimate(initial_bps=1_000_000, min_bps=50_000)
    for second in range(40):
        estimate.on_receiver_report(fraction_lost=128, jitter=0, clock_rate=48_000, lsr=0, dlsr=0, now=second)
    assert estimate.bitrate_bps == 50_000


def test_rtt_from_lsr_and_dlsr() -> None:
    estimate = BandwidthEstimate()
    ntp = (3_900_000_000 << 32) | 0x8000_0000
    estimate.sender_report_sent(ntp, now=10.0)
    lsr = (ntp >> 16) & 0xFFFFFFFF
    # Echoed 0.25 s later, after the subscriber held it 0.2 s (DLSR in 1/65536 s): RTT 50 ms.
    estimate.on_receiver_report(fraction_lost=0, jitter=0, clock_rate=90_000, lsr=lsr, dlsr=13_107, now=10.25)
    assert estimate.rtt_s == pytest.approx(0.05, abs=1e-4)
    estimate.on_receiver_report(fraction_lost=0, jitter=0, clock_rate=90_000, lsr=12345, dlsr=0, now=11.0)
    assert estimate.rtt_s == pytest.approx(0.05, abs=1e-4)  # an LSR it never sent changes nothing


def test_only_recent_sender_reports_are_remembered() -> None:
    estimate = BandwidthEstimate()
    for i in range(20):
        estimate.sender_report_sent(i << 16, now=float(i))
    estimate.on_receiver_report(fraction_lost=0, jitter=0, clock_rate=90_000, lsr=1, dlsr=0, now=30.0)
    assert estimate.rtt_s is None
    estimate.on_receiver_report(fraction_lost=0, jitter=0, clock_rate=90_000, lsr=19, dlsr=0, now=19.5)
    assert estimate.rtt_s == pytest.approx(0.5)
