"""Every command line a person runs answers ``--help`` (argparse formats help strings with ``%``: a literal percent
sign in one crashed ``python -m loadtests.large_meeting --help``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__main__")
    for package in ("api", "bench", "capture", "edge", "loadtests", "relay", "stack", "workers")
    for path in (ROOT / package).rglob("*.py")
    if "ArgumentParser(" in path.read_text(encoding="utf-8")
)


def test_the_command_lines_are_found() -> None:
    assert {"bench", "loadtests.large_meeting", "stack"} <= set(COMMANDS), COMMANDS


@pytest.mark.parametrize("module", COMMANDS)
def test_help_is_printed(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout and "Traceback" not in done.stderr
