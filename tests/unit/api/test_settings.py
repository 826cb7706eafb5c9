"""Privacy settings read from the environment: retention periods are whole days, at least one."""

from __future__ import annotations

import pytest

from api.settings import Settings


def test_defaults() -> None:
    s = Settings.from_env({})
    assert (s.audit_retention_days, s.recording_retention_days, s.export_max_bytes) == (365, None, 2 * 1024**3)


def test_values() -> None:
    s = Settings.from_env(
        {"API_AUDIT_RETENTION_DAYS": " 30 ", "API_RECORDING_RETENTION_DAYS": "7", "API_EXPORT_MAX_BYTES": "1000"}
    )
    assert (s.audit_retention_days, s.recording_retention_days, s.export_max_bytes) == (30, 7, 1000)
    assert Settings.from_env({"API_RECORDING_RETENTION_DAYS": "  "}).recording_retention_days is None


_BAD = ["0", "-1", "1.5", "²", "٣", "1e3", "9" * 5000, "abc"]


@pytest.mark.parametrize(
    ("name", "bad"),
    [("API_AUDIT_RETENTION_DAYS", b) for b in [*_BAD, " "]] + [("API_RECORDING_RETENTION_DAYS", b) for b in _BAD],
)
def test_nonsense_fails_at_start_with_the_name(name: str, bad: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: bad})


def test_the_default_webhook_retry_schedule_spans_more_than_a_day() -> None:
    """The waits before each retry add up to the time from the first attempt to the last (api/webhooks/dispatch.py
    schedules retry n after ``schedule[n - 1]`` seconds and gives up after the last): an endpoint down for a whole
    day still gets its events. Computed from what the settings hold, with and without an empty environment."""
    for s in (Settings(), Settings.from_env({}), Settings.from_env({"API_WEBHOOK_RETRY_SCHEDULE": " "})):
        schedule = s.webhook_retry_schedule_s
        assert schedule and all(wait > 0 for wait in schedule)
        assert sum(schedule) >= 24 * 3600, (schedule, sum(schedule) / 3600)
    # An operator's schedule replaces it (and is what the span is then computed from).
    assert Settings.from_env({"API_WEBHOOK_RETRY_SCHEDULE": "1,2"}).webhook_retry_schedule_s == (1.0, 2.0)
