from __future__ import annotations

import httpx
import pytest

from protocol.calendars import CalendarOp, CalendarProblem, CalendarRequest
from workers.caldav import is_calendar, resource_url, run

CALENDAR = b"""<?xml version="1.0"?>
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response><href>/a/work/</href><propstat><prop>
<resourcetype><collection/><C:calendar/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat></response>
</multistatus>"""
PLAIN_COLLECTION = CALENDAR.replace(b"<C:calendar/>", b"")


def test_one_resource_per_uid_in_the_collection() -> None:
    assert resource_url("https://dav.test/a/work/", "m1@host") == "https://dav.test/a/work/m1%40host.ics"
    assert resource_url("https://dav.test/a/work", "x/y") == "https://dav.test/a/work/x%2Fy.ics"  # no escaping it
    assert resource_url("https://dav.test:8443/a/work/?q=1", "u") == "https://dav.test:8443/a/work/u.ics"


def test_only_a_calendar_collection_passes_the_check() -> None:
    assert is_calendar(CALENDAR)
    assert not is_calendar(PLAIN_COLLECTION)  # the principal's home, not one of its calendars
    assert not is_calendar(b"<html>login</html")
    assert not is_calendar(b"")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/cal/", "http://169.254.169.254/latest/", "http://[::1]/cal/", "file:///etc/passwd"],
)
async def test_private_and_odd_addresses_are_refused_before_any_request(url: str) -> None:
    async with httpx.AsyncClient() as client:
        result = await run(CalendarRequest(CalendarOp.CHECK, url, "u", "p"), client)
    assert result.problem is CalendarProblem.REFUSED and result.status_code is None
