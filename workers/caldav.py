"""The CalDAV calendar provider (RFC 4791): check a calendar collection, put and delete one meeting's entry.

The ``sync_calendar`` job runs one ``protocol.calendars.CalendarRequest`` and reports a ``CalendarResult``; it
never raises for a server's answer (a refused password, a 500, a timeout are results: the API's outbox decides
about retries, as for webhooks). The same function runs in the API's process (``stack.calendars``, embedded) or
on an arq worker.

Safety as for webhooks (``workers.webhooks.destination``): the host is resolved and every address checked against
the address policy before each request, the request goes to the checked address (no DNS rebinding), redirects
are not followed (a redirect could point anywhere), and timeouts bound every request.

Each meeting is one calendar object resource named after its UID (``<collection>/<uid, percent-encoded>.ics``),
so a PUT replaces the previous version in place (RFC 4791 section 5.3.2) and the UID stays the ICS file's.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from protocol.calendars import CalendarOp, CalendarProblem, CalendarRequest, CalendarResult
from workers.webhooks import Pinned, destination, new_client

USER_AGENT = "meetmesh-calendars/1"
MAX_RESPONSE_BYTES = 64 * 1024
"""A PROPFIND of one collection at Depth 0 is a few hundred bytes; more is not read (nor parsed)."""

_PROPFIND = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:displayname/></d:prop></d:propfind>'
)
_DAV = "{DAV:}"
_CALDAV_CALENDAR = "{urn:ietf:params:xml:ns:caldav}calendar"


def resource_url(collection: str, uid: str) -> str:
    """Where the entry of ``uid`` lives in ``collection``: one resource per UID, so a PUT replaces it."""
    parts = urlsplit(collection)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path + quote(uid, safe="") + ".ics", "", ""))


def is_calendar(multistatus: bytes) -> bool:
    """Whether a PROPFIND answer (207, RFC 4918 section 13) says the resource is a calendar collection
    (``resourcetype`` holds ``C:calendar``, RFC 4791 section 4.2)."""
    try:
        root = ET.fromstring(multistatus)  # bounded by MAX_RESPONSE_BYTES; expat has no external entities
    except ET.ParseError:
        return False
    for rtype in root.iter(f"{_DAV}resourcetype"):
        if rtype.find(_CALDAV_CALENDAR) is not None:
            return True
    return False


def _answer_problem(op: CalendarOp, status: int) -> CalendarProblem | None:
    if status in (401, 403):
        return CalendarProblem.AUTH
    if op is CalendarOp.CHECK:
        if status == 207:
            return None
        return CalendarProblem.NOT_A_CALENDAR if status in (200, 404, 405) else CalendarProblem.SERVER
    if op is CalendarOp.DELETE and status == 404:
        return None  # gone already: what we wanted
    return None if 200 <= status < 300 else CalendarProblem.SERVER


async def _request(
    client: httpx.AsyncClient,
    req: CalendarRequest,
    method: str,
    dest: Pinned,
    body: bytes,
    extra: dict[str, str],
) -> tuple[int, bytes]:
    # identity: the body is read raw and bounded; a compressed one would be neither parsable nor bounded.
    headers = {"user-agent": USER_AGENT, "host": dest.host_header, "accept-encoding": "identity", **extra}
    timeout = httpx.Timeout(req.timeout_s)
    extensions = {"sni_hostname": dest.sni_hostname} if dest.sni_hostname else None
    async with client.stream(
        method,
        dest.url,
        content=body,
        headers=headers,
        auth=httpx.BasicAuth(req.username, req.password),
        timeout=timeout,
        extensions=extensions,
    ) as res:
        buf = bytearray()
        async for chunk in res.aiter_raw():
            buf += chunk
            if len(buf) >= MAX_RESPONSE_BYTES:
                break
        return res.status_code, bytes(buf[:MAX_RESPONSE_BYTES])


async def run(req: CalendarRequest, client: httpx.AsyncClient) -> CalendarResult:
    if req.op is CalendarOp.CHECK:
        url, method = req.url, "PROPFIND"
        body, extra = _PROPFIND, {"depth": "0", "content-type": "application/xml; charset=utf-8"}
    elif req.op is CalendarOp.PUT:
        url, method = resource_url(req.url, req.uid), "PUT"
        body, extra = req.ics.encode(), {"content-type": "text/calendar; charset=utf-8"}
    else:
        url, method, body, extra = resource_url(req.url, req.uid), "DELETE", b"", {}
    dest = await destination(url, req.allowed_networks)
    if isinstance(dest, str):
        return CalendarResult(CalendarProblem.REFUSED, f"refused: {dest}"[:300])
    try:
        # The timeout bounds each read; wait_for bounds a server trickling bytes to stay under it.
        status, answer = await asyncio.wait_for(
            _request(client, req, method, dest, body, extra), timeout=2 * req.timeout_s
        )
    except (TimeoutError, httpx.TimeoutException):
        return CalendarResult(CalendarProblem.UNREACHABLE, f"{method} timed out after {req.timeout_s:g} s")
    except httpx.HTTPError as exc:
        return CalendarResult(CalendarProblem.UNREACHABLE, f"{method} failed: {type(exc).__name__}: {exc}"[:300])
    problem = _answer_problem(req.op, status)
    if problem is None and req.op is CalendarOp.CHECK and not is_calendar(answer):
        problem = CalendarProblem.NOT_A_CALENDAR
    if problem is None:
        return CalendarResult(None, f"{method} {status}", status)
    detail = {
        CalendarProblem.AUTH: f"the calendar server refused the username or password (HTTP {status})",
        CalendarProblem.NOT_A_CALENDAR: f"the URL is not a CalDAV calendar collection (PROPFIND answered {status})",
    }.get(problem, f"{method} answered HTTP {status}")
    if 300 <= status < 400:
        detail += " (a redirect: give the calendar collection's own URL)"
    return CalendarResult(problem, detail, status)


async def sync_calendar(ctx: dict[str, Any], request: dict[str, object]) -> dict[str, object]:
    """The arq job: a ``CalendarRequest`` as a dict in, a ``CalendarResult`` as a dict out."""
    client = ctx.get("calendar_client")
    if client is None:
        client = ctx["calendar_client"] = new_client()
    return (await run(CalendarRequest.from_dict(request), client)).to_dict()
