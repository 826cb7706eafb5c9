"""``python -m loadtests.large_meeting`` end to end, small and bounded: real API and edge processes, generator worker
processes with receive-only aiortc peers (no decoding), a ramp in steps, a steady window and a sane report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_large_meeting_ramp_reports_what_the_edge_held(tmp_path: Path, repo_root: Path) -> None:
    report_path = tmp_path / "large.json"
    args = ["--participants", "12", "--publishers", "3", "--seconds", "5", "--step", "5", "--max-wall", "180"]
    proc = subprocess.run(
        [sys.executable, "-m", "loadtests.large_meeting", *args, "--json", str(report_path)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=230,  # under the test's own timeout, so a hang fails here with the output attached
    )
    output = (proc.stdout + proc.stderr)[-4000:]
    assert proc.returncode == 0, output
    report = json.loads(report_path.read_text())
    assert report["participants_joined"] == 12 and report["joins_failed"] == 0, output
    assert report["stopped_because"] == "all 12 asked for joined", output
    assert not report["problems"], output
    # The ramp: steps of 5 (the publishers first).
    assert [step["participants"] for step in report["ramp"]] == [5, 10, 12], output
    # Everyone gets every publisher's video and audio (3 publishers, far under last-N 25 and the top-3 audio
    # threshold of 50 people): receivers 6 remote tracks, publishers the other 2 publishers' 4.
    people = report["people"]
    assert len(people) == 12
    for name, (pps, tracks) in people.items():
        publisher = name in {"p0", "p1", "p2"}
        assert tracks == (4 if publisher else 6), (name, pps, tracks)
        # 15 fps VP8 (~1-2 packets a frame) + 50 Opus packets/s per remote publisher.
        assert (40 if publisher else 60) * (2 if publisher else 3) / 3 < pps < 400, (name, pps)
    assert report["receivers_without_media"] == 0
    assert report["forwarded_pps"] == pytest.approx(sum(p for p, _ in people.values()), rel=0.05)
    assert report["loss_fraction"] < 0.05
    assert 0 < report["edge_cpu_percent"] < 100 * report["cpu_count"]
    assert report["generator_cpu_percent"] > 0
    assert 0 < report["join_edge_ms_p50"] <= report["join_edge_ms_p95"] < 30_000
    assert report["join_first_packet_ms_p50"] is not None
    # Nothing was decoded, but aiortc assembled frames from the packets (counted instead of decoded).
    assert report["frames_assembled"] > 0
