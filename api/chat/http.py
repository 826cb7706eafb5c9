"""Plain HTTP routes of api/chat (file upload and download); `create_app` mounts every handler in ROUTES.

Upload: ``POST /meetings/{meetingId}/files?filename=report.pdf`` with the raw bytes as the body and
``Authorization: Bearer <token>`` (the same token as for GraphQL) → 201 ``{id, filename, contentType, size}``;
then send a chat message with ``attachmentId``. Download: the signed URL from ``ChatAttachment.download``.
Errors are JSON ``{"error", "code"}`` with the matching status (PAYLOAD_TOO_LARGE → 413), never a 500.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import File

from api.chat import files, service
from api.errors import AppError, PayloadTooLargeError, UnauthenticatedError
from api.security import Principal
from api.services import Services
from protocol.errors import ErrorCode
from protocol.ids import new_id

_STATUS = {
    ErrorCode.BAD_INPUT: 400,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.MEETING_ENDED: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
}


def _error(request: Request[Any, Any, Any], exc: AppError) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"error": exc.message, "code": exc.code.value}
    headers: dict[str, str] = {}
    if exc.field:
        body["field"] = exc.field
    if exc.retry_after_s is not None:
        body["retryAfter"] = exc.retry_after_s
        headers["retry-after"] = str(max(1, round(exc.retry_after_s)))
    if exc.code is ErrorCode.UNAUTHENTICATED:
        headers["www-authenticate"] = "Bearer"
    return Response(body, status_code=_STATUS.get(exc.code, 400), headers=headers)


_HANDLERS: Any = {AppError: _error}


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
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"files may be at most {limit} bytes (got {declared})")
    received = await files.receive(request.stream(), svc.settings.data_dir, limit, new_id())
    f = await service.record_upload(svc, uploader, received, files.display_filename(filename))
    return {"id": f.id, "filename": f.filename, "contentType": f.content_type, "size": f.size}


@get("/files/{file_id:str}", exception_handlers=_HANDLERS)
async def download_file(request: Request[Any, Any, Any], file_id: str, exp: str = "", sig: str = "") -> File:
    svc = _services(request)
    f = await service.downloadable(svc, file_id, int(exp) if exp.isdigit() else None, sig or None)
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
