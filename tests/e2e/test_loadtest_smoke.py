"""The Locust smoke run (``just loadtest``) end to end: real API subprocess, real Locust, a few seconds of load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

USERS = 5
SECONDS = 6
CHAT_USERS = 8
CHAT_SECONDS = 8


def _run_smoke(repo_root: Path, summary_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "loadtests.smoke", *args, "--summary-json", str(summary_path)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=55,  # under the tests' own timeout, so a hang fails here with the output attached
    )
    return proc, proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_smoke_run_is_clean(tmp_path: Path, repo_root: Path) -> None:
    summary_path = tmp_path / "summary.json"
    proc, output = _run_smoke(repo_root, summary_path, "--users", str(USERS), "--seconds", str(SECONDS))
    assert proc.returncode == 0, output
    summary = json.loads(summary_path.read_text())
    assert summary["ok"], output
    assert summary["requests"] > 0, output
    assert summary["failures"] == 0, output
    assert summary["exceptions"] == 0, output
    # Every step of the scenario ran at least once: a silently skipped step would not show up as a failure.
    for name in ("signUp", "createMeeting", "joinMeeting", "leaveMeeting"):
        assert summary["by_name"][f"graphql {name}"]["requests"] > 0, output


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_chat_smoke_run_is_clean(tmp_path: Path, repo_root: Path) -> None:
    """Guests chatting in one meeting: every message sent is seen, in order, on the sender's own subscription."""
    summary_path = tmp_path / "summary.json"
    proc, output = _run_smoke(
        repo_root, summary_path, "--scenario", "chat", "--users", str(CHAT_USERS), "--seconds", str(CHAT_SECONDS)
    )
    assert proc.returncode == 0, output
    summary = json.loads(summary_path.read_text())
    assert summary["ok"], output
    assert summary["scenario"] == "chat", output
    assert summary["requests"] > 0, output
    assert summary["failures"] == 0, output
    assert summary["exceptions"] == 0, output
    by_name = summary["by_name"]
    for name in ("host createMeeting", "joinMeeting", "sendChatMessage"):
        assert by_name[f"graphql {name}"]["requests"] > 0, output
    # Every guest subscribed, and deliveries were measured: one per message sent (none late: no failures), but
    # for at most one per user still in flight when the run ended, which counts neither way.
    connect, delivery = by_name["connect"], by_name["chat delivery"]
    assert (connect["method"], connect["requests"]) == ("WS", CHAT_USERS), output
    assert delivery["method"] == "WS", output
    assert delivery["requests"] > 0, output
    sent = by_name["graphql sendChatMessage"]["requests"]
    assert sent - CHAT_USERS <= delivery["requests"] <= sent, output
