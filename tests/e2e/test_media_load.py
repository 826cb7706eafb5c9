"""The media benchmark harness and the media load test end to end, with tiny bounded parameters: real child
processes (SFU taps, MediaRelay, raw UDP fan-out, load generator), real API and edge processes, real aiortc
participants."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench import media

TINY = replace(
    media.SPEC,
    fanout_subscribers=3,
    meeting_size=3,
    fanout_rate_pps=500,
    meeting_rate_pps=300,
    latency_rate_pps=100,
    latency_s=0.5,
    throughput_s=1.0,
    warmup_s=0.2,
    rounds=1,
    relay_subscribers=2,
    relay_s=1.0,
    relay_warmup_s=1.0,
    joins=1,
    real_meeting_size=2,
    real_meeting_s=1.0,
)
KEYS = (
    "sfu_forwarded_pps_per_core",
    "udp_raw_ceiling_pps_per_core",
    "sfu_loss_vs_offered",
    "udp_raw_loss_vs_offered",
    "sfu_ratio_to_udp_raw",
    "media_loadgen_cpu_cores",
    "mediarelay_pps_per_core",
    "sfu_added_latency_p50_ms",
    "sfu_added_latency_p99_ms",
    "join_to_first_frame_ms",
    "sfu_cpu_percent_per_stream",
    "edge_process_cpu_percent_per_stream",
)


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_bench_only_media_writes_its_keys_and_keeps_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "results.json"
    output.write_text(json.dumps({"graphql_query_rps": 123.0}))
    monkeypatch.setitem(bench_main.STANDALONE, "media", lambda: media.run(TINY))

    assert bench_main.main(["--only", "media", "--output", str(output)]) == 0

    results = json.loads(output.read_text())
    assert results["graphql_query_rps"] == 123.0
    for key in KEYS:
        assert isinstance(results[key], int | float) and results[key] >= 0, (key, results)
    # Every forwarder moved packets, and the plain UDP fan-out beats the SFU, which beats decode + re-encode.
    assert results["udp_raw_ceiling_pps_per_core"] > results["sfu_forwarded_pps_per_core"] > 0
    assert 0 <= results["sfu_loss_vs_offered"] <= 1 and 0 <= results["udp_raw_loss_vs_offered"] <= 1
    assert results["media_loadgen_cpu_cores"] > 0
    low, high = results["sfu_forwarded_pps_per_core_spread"]
    assert low <= results["sfu_forwarded_pps_per_core"] <= high
    assert results["sfu_forwarded_pps_per_core"] > results["mediarelay_pps_per_core"] > 0
    assert 0 < results["join_to_first_frame_ms"] < 20_000
    assert "aiortc synthetic participant" in str(results["join_to_first_frame_source"])


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_media_load_run_is_clean(tmp_path: Path, repo_root: Path) -> None:
    report_path = tmp_path / "media.json"
    args = ["--participants", "3", "--seconds", "2", "--json", str(report_path)]
    proc = subprocess.run(
        [sys.executable, "-m", "loadtests.media_load", *args],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=80,  # under the test's own timeout, so a hang fails here with the output attached
    )
    output = (proc.stdout + proc.stderr)[-4000:]
    assert proc.returncode == 0, output
    report = json.loads(report_path.read_text())
    assert report["ok"] and not report["problems"], output
    assert len(report["people"]) == 3
    for person in report["people"]:
        # Each decoded both other participants' video, and the join went through API and edge.
        assert person["remote_video_tracks"] == 2, person
        assert person["video_frames"] > 0 and person["first_frame_ms"] > person["edge_joined_ms"] > 0, person
    assert report["rtp_received"] > 0
    assert report["edge_cpu_percent"] is not None
