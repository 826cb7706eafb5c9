"""``python -m bench --only large_meeting``: the largest meeting one edge process holds here, as measured by
``python -m loadtests.large_meeting`` (run as a child process: benchmarks and load tests do not import each other),
merged into bench/results.json as ``large_meeting_*`` keys. docs/capacity.md builds on these figures."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench import results
from bench.loadgen import BenchFailed

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Spec:
    participants: int = 400
    publishers: int = 25
    seconds: int = 30
    step: int = 25
    max_wall_s: int = 330


SPEC = Spec()

KEYS = {
    "participants_joined": "large_meeting_participants",
    "edge_cpu_percent": "large_meeting_edge_cpu_percent",
    "generator_cpu_percent": "large_meeting_generator_cpu_percent",
    "forwarded_pps": "large_meeting_forwarded_pps",
    "edge_cpu_percent_per_1000_pps": "large_meeting_edge_cpu_percent_per_1000_pps",
    "received_pps_per_receiver_p50": "large_meeting_received_pps_per_receiver_p50",
    "remote_tracks_per_receiver_p50": "large_meeting_remote_tracks_per_receiver_p50",
    "loss_fraction": "large_meeting_loss_fraction",
    "join_edge_ms_p50": "large_meeting_join_edge_ms_p50",
    "join_edge_ms_p95": "large_meeting_join_edge_ms_p95",
    "join_first_packet_ms_p50": "large_meeting_join_first_packet_ms_p50",
    "join_first_packet_ms_p95": "large_meeting_join_first_packet_ms_p95",
    "stopped_because": "large_meeting_stopped_because",
}


def run(spec: Spec = SPEC) -> Mapping[str, results.Value]:
    with tempfile.TemporaryDirectory(prefix="meetmesh-bench-large-") as tmp:
        out = Path(tmp) / "large.json"
        args = [
            *("--participants", str(spec.participants), "--publishers", str(spec.publishers)),
            *("--seconds", str(spec.seconds), "--step", str(spec.step), "--max-wall", str(spec.max_wall_s)),
        ]
        proc = subprocess.run(
            [sys.executable, "-m", "loadtests.large_meeting", *args, "--json", str(out)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=spec.max_wall_s + 120,
        )
        if proc.returncode != 0 or not out.exists():
            raise BenchFailed(f"large_meeting exited {proc.returncode}: {(proc.stdout + proc.stderr)[-2000:]}")
        report = json.loads(out.read_text())
    return from_report(report, spec)


def from_report(report: Mapping[str, object], spec: Spec = SPEC) -> dict[str, results.Value]:
    """The ``large_meeting_*`` keys of one ``loadtests.large_meeting`` report."""
    out: dict[str, results.Value] = {}
    for field, key in KEYS.items():
        value = report.get(field)
        if isinstance(value, int | float | str):
            out[key] = value
    out["large_meeting_source"] = (
        f"python -m loadtests.large_meeting: one edge process, {report.get('publishers')} publishers (320x240 VP8"
        f" 15 fps + Opus, pre-encoded) and receive-only aiortc peers in {report.get('workers')} generator processes"
        f" (no decoding: packets counted), last-N 25, ramp in steps of {spec.step} up to"
        f" {report.get('participants_asked')}, stopping at a failed join, no media in 30 s, edge CPU >= 90% of a"
        f" core or a saturated generator; steady window {report.get('seconds')} s at the size reached; edge,"
        f" generator, API and other helpers' work share {report.get('cpu_count')} cores"
    )
    return out
