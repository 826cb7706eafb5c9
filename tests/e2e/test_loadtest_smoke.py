"""The Locust smoke run (``just loadtest``) end to end: real API subprocess, real Locust, a few seconds of load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

USERS = 5
SECONDS = 6


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_smoke_run_is_clean(tmp_path: Path, repo_root: Path) -> None:
    summary_path = tmp_path / "summary.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "loadtests.smoke",
            "--users",
            str(USERS),
            "--seconds",
            str(SECONDS),
            "--summary-json",
            str(summary_path),
        ],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=55,  # under the test's own timeout, so a hang fails here with the output attached
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    summary = json.loads(summary_path.read_text())
    assert summary["ok"], output
    assert summary["requests"] > 0, output
    assert summary["failures"] == 0, output
    assert summary["exceptions"] == 0, output
    # Every step of the scenario ran at least once: a silently skipped step would not show up as a failure.
    for name in ("signUp", "createMeeting", "joinMeeting", "leaveMeeting"):
        assert summary["by_name"][f"graphql {name}"]["requests"] > 0, output
