"""What the load tests' command lines share: every number a person types is bounded (a load loop never runs
unbounded by mistake)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type`` accepting whole numbers in ``low..high`` and refusing the rest with the range."""

    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low}..{high} (got {value})")
        return value

    return parse
