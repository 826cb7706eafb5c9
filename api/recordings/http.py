"""Plain HTTP route of api/recordings: play a recording's files with Range support (seeking).

``GET /recordings/{id}/media/{name}?exp=…&sig=…`` - the signed URL from ``Recording.media``. Answers 200 with the
whole file, or 206 with ``Content-Range`` for a single ``Range: bytes=…`` request, 416 past the end. Errors are
JSON ``{"error", "code"}`` (403 for a bad or expired signature, 404 for a file that does not exist), never a 500.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from litestar import Request, Response, get
from litestar.response import Stream

from api import integers
from api.errors import ForbiddenError, NotFoundError
from api.http_errors import HTTP_ERROR_HANDLERS
from api.recordings import media, service
from api.services import Services

CHUNK = 256 * 1024


async def _read(path: Any, first: int, length: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as f:
        await f.seek(first)
        left = length
        while left > 0:
            chunk = await f.read(min(CHUNK, left))
            if not chunk:
                return  # the file shrank meanwhile (replaced by a re-run job): end early rather than hang
            left -= len(chunk)
            yield chunk


@get("/recordings/{recording_id:str}/media/{name:str}", exception_handlers=HTTP_ERROR_HANDLERS)
async def play(
    request: Request[Any, Any, Any], recording_id: str, name: str, exp: str = "", sig: str = ""
) -> Response[Any]:
    svc: Services = request.app.state.services
    key = svc.creds.derive_key(media.KEY_PURPOSE)
    if name not in media.MEDIA:
        raise NotFoundError(f"recordings have no file {name!r}")
    # A malformed expiry is just another link that does not verify: 403, no parsing details.
    expiry = integers.int_or_none(exp, lo=0, hi=media.MAX_EXPIRY)
    if not media.verify(key, recording_id, name, expiry, sig or None, time.time()):
        raise ForbiddenError("this link is invalid or has expired; fetch the recording again for a fresh one")
    path = service.recording_dir(svc, recording_id) / name
    try:
        size = path.stat().st_size
    except OSError:
        raise NotFoundError(f"recording {recording_id} has no {name} (yet)") from None
    headers = {
        "accept-ranges": "bytes",
        "x-content-type-options": "nosniff",
        "cache-control": "private, max-age=300",
    }
    try:
        wanted = media.byte_range(request.headers.get("range"), size)
    except media.RangeNotSatisfiableError:
        return Response(b"", status_code=416, headers={**headers, "content-range": f"bytes */{size}"})
    first, last = wanted if wanted is not None else (0, size - 1)
    if first == 0 and name in media.PLAYABLE:
        await service.count_view(svc, recording_id)  # a player starting from the top; seeks do not count
    elif first == 0 and name in media.DOWNLOADS:
        await service.count_download(svc, recording_id, name)  # the audit log notes transcript downloads
    headers["content-length"] = str(last - first + 1)
    if wanted is not None:
        headers["content-range"] = f"bytes {first}-{last}/{size}"
    return Stream(
        _read(path, first, last - first + 1),
        status_code=206 if wanted is not None else 200,
        media_type=media.MEDIA[name],
        headers=headers,
    )


ROUTES: list[Any] = [play]
