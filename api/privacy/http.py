"""``GET /privacy/export/{user_id}?exp=…&sig=…``: the archive behind a ``requestDataExport`` link.

The signed URL is the permission (a download started by the browser cannot send a bearer token), valid for
``EXPORT_URL_TTL_S``. The zip is built into a temporary file in a thread, streamed, then removed. Errors are
JSON ``{"error", "code"}``: 403 for a bad or expired link, 404 for a deleted account, 413 over the size bound.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from litestar import Request, Response, get
from litestar.response import Stream

from api.errors import ForbiddenError
from api.http_errors import HTTP_ERROR_HANDLERS
from api.privacy import service
from api.services import Services

CHUNK = 256 * 1024


async def _stream_then_remove(path: Path) -> AsyncIterator[bytes]:
    try:
        async with await anyio.open_file(path, "rb") as f:
            while chunk := await f.read(CHUNK):
                yield chunk
    finally:
        await anyio.Path(path).unlink(missing_ok=True)


@get("/privacy/export/{user_id:str}", exception_handlers=HTTP_ERROR_HANDLERS)
async def download_export(request: Request[Any, Any, Any], user_id: str, exp: str = "", sig: str = "") -> Response[Any]:
    svc: Services = request.app.state.services
    if not service.verify_export(svc, user_id, exp, sig, time.time()):
        raise ForbiddenError("this export link is invalid or has expired; request a new one")
    folder = svc.settings.data_dir / "exports"
    await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
    target = folder / f"{secrets.token_hex(16)}.zip"
    try:
        size = await service.build_export(svc, user_id, target)
    except BaseException:
        await anyio.Path(target).unlink(missing_ok=True)
        raise
    return Stream(
        _stream_then_remove(target),
        media_type="application/zip",
        headers={
            "content-length": str(size),
            "content-disposition": 'attachment; filename="meetmesh-export.zip"',
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
        },
    )


ROUTES: list[Any] = [download_export]
