"""Calendar files over plain HTTP (what calendar apps fetch):

- ``GET /calendar/meetings/{id}.ics``: one meeting, with ``Authorization: Bearer`` (a session or an API key with
  ``meetings:read``), for whoever may see the meeting.
- ``GET /calendar/feed/{secret}.ics``: a user's feed; the secret in the URL is the permission (Google Calendar,
  Outlook and Apple Calendar subscribe without credentials). Unknown or revoked: 404.

Errors are JSON ``{"error", "code"}`` (api/http_errors.py).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from api.calendars import service
from api.errors import NotFoundError
from api.http_errors import HTTP_ERROR_HANDLERS
from api.rest.auth import caller
from api.rest.auth import services as services_of

MEDIA_TYPE = "text/calendar; charset=utf-8"  # RFC 5545 section 8.1


def _ics(body: bytes, filename: str, *, cache: str) -> Response[bytes]:
    return Response(
        body,
        media_type=MEDIA_TYPE,
        headers={
            "content-disposition": f'inline; filename="{filename}"',
            "cache-control": cache,
            "x-content-type-options": "nosniff",
        },
    )


def _stem(file: str) -> str:
    # Litestar parameters are whole path segments: the ".ics" calendar apps like to see is taken off here.
    if not file.endswith(".ics"):
        raise NotFoundError("calendar files end in .ics")
    return file.removesuffix(".ics")


@get("/calendar/meetings/{file:str}", exception_handlers=HTTP_ERROR_HANDLERS)
async def meeting_ics(request: Request[Any, Any, Any], file: str) -> Response[bytes]:
    principal = await caller(request, "meetings:read")
    body = await service.meeting_file(services_of(request), principal, _stem(file))
    return _ics(body, "meeting.ics", cache="private, no-store")


@get("/calendar/feed/{file:str}", exception_handlers=HTTP_ERROR_HANDLERS)
async def feed_ics(request: Request[Any, Any, Any], file: str) -> Response[bytes]:
    body = await service.feed_file(services_of(request), _stem(file))
    # Never cached by intermediaries (the URL is a credential); subscribers poll it on their own schedule.
    return _ics(body, "meetmesh.ics", cache="private, no-store")


ROUTES = [meeting_ics, feed_ics]
