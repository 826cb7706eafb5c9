"""bench/results.json: one flat JSON object, metric name → value, that every benchmark merges its keys into."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

RESULTS_PATH = Path(__file__).with_name("results.json")

Value = float | int | str


def load(path: Path = RESULTS_PATH) -> dict[str, Value]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        # Refuse rather than overwrite: someone else's keys would be lost.
        raise ValueError(f"{path} does not hold a JSON object")
    return data


def merge(update: Mapping[str, Value], path: Path = RESULTS_PATH) -> dict[str, Value]:
    """Update ``update``'s keys in the file, keep every other key, and return the merged object."""
    merged = load(path)
    merged.update(update)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)  # atomic: an interrupted run never leaves half a file
    return merged
