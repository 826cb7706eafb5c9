"""The relay benchmark runs end to end at a tiny size and writes its keys (the numbers themselves are for
``just bench`` on a quiet host, not for a test)."""

from __future__ import annotations

import pytest

from bench import relay

TINY = relay.RelaySpec(rate_pps=1_000, seconds=0.5, latency_rate_pps=200, latency_seconds=0.5, rounds=1, warmup_s=0.2)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_relay_bench_measures_both_paths_side_by_side() -> None:
    out = relay.run(TINY)
    for key in ("relay_pps_per_core", "relay_udp_ceiling_pps_per_core", "relay_receiver_pps_per_core"):
        assert isinstance(out[key], int) and out[key] > 0, (key, out)
    # At a rate this light both paths deliver (nearly) everything they were offered.
    assert float(out["relay_loss_vs_offered"]) < 0.05 and float(out["relay_udp_loss_vs_offered"]) < 0.05, out
    assert 0 < float(out["relay_hop_latency_p50_ms"]) < 1000 and 0 < float(out["relay_udp_latency_p50_ms"]) < 1000
    assert "interleaved" in str(out["relay_source"])
