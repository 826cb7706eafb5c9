"""bench.large_meeting turns one ``loadtests.large_meeting`` report into ``large_meeting_*`` keys."""

from __future__ import annotations

from bench import large_meeting


def test_keys_come_from_the_report_and_missing_values_are_left_out() -> None:
    report = {
        "participants_asked": 25,
        "publishers": 10,
        "seconds": 30,
        "workers": 2,
        "cpu_count": 2,
        "participants_joined": 25,
        "edge_cpu_percent": 35.2,
        "forwarded_pps": 4323.9,
        "edge_cpu_percent_per_1000_pps": None,  # no figure: not written as a key
        "stopped_because": "all 25 asked for joined",
    }
    keys = large_meeting.from_report(report, large_meeting.Spec(participants=25, publishers=10, step=5))

    assert keys["large_meeting_participants"] == 25
    assert keys["large_meeting_edge_cpu_percent"] == 35.2
    assert keys["large_meeting_forwarded_pps"] == 4323.9
    assert keys["large_meeting_stopped_because"] == "all 25 asked for joined"
    assert "large_meeting_edge_cpu_percent_per_1000_pps" not in keys
    source = str(keys["large_meeting_source"])
    assert "10 publishers" in source and "steps of 5 up to 25" in source and "2 cores" in source
