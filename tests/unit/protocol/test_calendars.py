from __future__ import annotations

from protocol.calendars import CalendarOp, CalendarProblem, CalendarRequest, CalendarResult


def test_requests_and_results_survive_the_job_queue_encoding() -> None:
    req = CalendarRequest(
        CalendarOp.PUT,
        "https://dav.example.test/a/work/",
        "a",
        "pw",
        uid="m1@h",
        ics="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        allowed_networks=("10.0.0.0/8",),
        timeout_s=3.5,
    )
    assert CalendarRequest.from_dict(req.to_dict()) == req
    for result in (CalendarResult(None, "PUT 201", 201), CalendarResult(CalendarProblem.UNREACHABLE, "timed out")):
        assert CalendarResult.from_dict(result.to_dict()) == result
    assert CalendarResult(None).ok and not CalendarResult(CalendarProblem.AUTH).ok
