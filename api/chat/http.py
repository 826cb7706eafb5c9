"""Plain HTTP routes of api/chat (file upload and download); `create_app` mounts every handler in ROUTES.

Upload: ``POST /meetings/{meetingId}/files?filename=report.pdf`` with the raw bytes as the body and
``Authorization: Bearer <token>`` (the same token as for GraphQL) → 201 ``{id, filename, contentType, size}``;
then send a chat message with ``attachmentId``. Download: the signed URL from ``ChatAttachment.download``.
Errors are JSON ``{"error", "code"}`` with the matching status (PAYLOAD_TOO_LARGE → 413), never a 500.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import File

from api import integers
from api.chat import files, service
from api.errors import BadInputError, PayloadTooLargeError, UnauthenticatedError
from api.http_errors import HTTP_ERROR_HANDLERS
from api.security import Principal
from api.services import Services
from protocol.ids import new_id

_HANDLERS = HTTP_ERROR_HANDLERS


def _services(request: Request[Any, Any, Any]) -> Services:
    svc: Services = request.app.state.services
    return svc


def _principal(request: Request[Any, Any, Any], svc: Services) -> Principal:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError("send Authorization: Bearer <token>")
    return svc.creds.principal_from_bearer(token.strip())


# No framework body limit here: the route enforces settings.max_upload_bytes itself while streaming to disk.
@post("/meetings/{meeting_id:str}/files", request_max_body_size=None, exception_handlers=_HANDLERS, status_code=201)
async def upload_file(request: Request[Any, Any, Any], meeting_id: str, filename: str | None = None) -> dict[str, Any]:
    svc = _services(request)
    uploader = await service.upload_allowed(svc, _principal(request, svc), meeting_id)
    limit = svc.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    # The HTTP parser (httptools) already refuses malformed lengths; this stays correct behind another one.
    if declared is not None and integers.int_or_none(declared, lo=0, hi=limit) is None:
        if not integers.is_ascii_digits(declared):
            raise BadInputError("content-length", f"Content-Length must be ASCII digits (got {declared[:24]!r})")
        raise PayloadTooLargeError(f"files may be at most {limit} bytes (got {declared[:24]})")
    received = await files.receive(request.stream(), svc.settings.data_dir, limit, new_id())
    f = await service.record_upload(svc, uploader, received, files.display_filename(filename))
    return {"id": f.id, "filename": f.filename, "contentType": f.content_type, "size": f.size}


@get("/files/{file_id:str}", exception_handlers=_HANDLERS)
async def download_file(request: Request[Any, Any, Any], file_id: str, exp: str = "", sig: str = "") -> File:
    svc = _services(request)
    # A malformed expiry is just another link that does not verify: 403, no parsing details.
    expiry = integers.int_or_none(exp, lo=0, hi=files.MAX_EXPIRY)
    f = await service.downloadable(svc, file_id, expiry, sig or None)
    return File(
        path=files.files_dir(svc.settings.data_dir) / f.id,  # our id, never the client's name
        filename=f.filename,
        media_type=f.content_type,
        content_disposition_type="attachment",
        headers={
            "x-content-type-options": "nosniff",
            # Even if a browser were talked into rendering it, the file gets no scripts and no origin.
            "content-security-policy": "default-src 'none'; sandbox",
            "cache-control": "private, no-store",
        },
    )


ROUTES: list[Any] = [upload_file, download_file]
