"""The media benchmark's phases on real processes, sockets and DTLS-SRTP peers, at a small rate: every packet
offered is accounted for (no timing is asserted: speed is measured in bench/, not in tests)."""

from __future__ import annotations

import asyncio

from bench.media import MediaSpec, _routes_fanout, _routes_meeting, _sfu_phase, _udp_phase

SMALL = MediaSpec(fanout_subscribers=3, meeting_size=3, warmup_s=0.2, throughput_s=0.5, latency_s=0.3)
RATE = 200


def test_the_raw_udp_fan_out_delivers_what_was_offered_to_every_subscriber() -> None:
    window = asyncio.run(_udp_phase(SMALL, 3, _routes_meeting(3), RATE, "udp 3x3"))
    assert window.offered == 3 * int(RATE * SMALL.throughput_s)
    assert window.expected == 2 * window.offered
    # Loopback at 1,200 datagrams/s with 4 MB buffers: nothing is lost, and nothing is counted twice.
    assert window.received == window.expected == window.forwarded
    assert window.read == window.offered
    assert window.loss == 0.0
    assert window.cpu_s > 0 and window.loadgen_cpu_s > 0


def test_the_sfu_phase_counts_against_the_offered_packets_and_measures_latency() -> None:
    window, latencies = asyncio.run(_sfu_phase(SMALL, 1, _routes_fanout(3), RATE, "sfu 1->3", latency=True))
    assert window.offered == int(RATE * SMALL.throughput_s)
    assert window.expected == 3 * window.offered
    assert 0 < window.received <= window.expected
    assert window.forwarded <= window.expected
    assert 0 < window.read <= window.offered
    assert window.loss == 1 - window.received / window.expected
    assert latencies and all(0 < ms < 1_000 for ms in latencies)
