"""What the edge reports about its load (``edge.app.Registration``): busy CPU between reports, never its start."""

from __future__ import annotations

import time

from edge.app import Registration
from edge.settings import Settings


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_the_first_report_does_not_count_the_start_as_load() -> None:
    registration = Registration(Settings(public_url="ws://127.0.0.1:9/edge/signal"))
    _burn(0.3)  # imports, certificates, uvicorn starting
    assert registration().cpu == 0.0


def test_later_reports_measure_the_interval_since_the_last() -> None:
    registration = Registration(Settings(public_url="ws://127.0.0.1:9/edge/signal"))
    registration()
    _burn(0.25)
    busy = registration().cpu
    # All of the interval on this thread's CPU, as far as the host gave it (a shared 2-core host running the
    # suite's other processes may give it a third of a core): a clear share, where an idle interval has ~none.
    assert busy > 0.2, busy
    time.sleep(0.25)
    idle = registration().cpu
    assert idle < 0.1 and idle < busy / 3, (idle, busy)
