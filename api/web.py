"""The browser client: ``web/`` (plain ES modules, no build step) served as it is on disk.

``/`` is the landing page (create or join), ``/m/{number}`` the meeting page (pre-join → waiting room → meeting),
``/r/{recording id}`` (members) and ``/s/{share id}`` (share links) the recording player, ``/web/*`` the modules,
among them the embeddable SDK at ``/web/sdk/index.js``.
"""

from __future__ import annotations

from pathlib import Path

from litestar import MediaType, Response, get
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

WEB = Path(__file__).resolve().parent.parent / "web"

# Pages hold no secrets and change with each deploy: revalidate every time (ETag/Last-Modified answer 304).
_REVALIDATE = {"cache-control": "no-cache"}


def _page(name: str) -> Response[bytes]:
    return Response((WEB / name).read_bytes(), media_type=MediaType.HTML, headers=_REVALIDATE)


@get("/", media_type=MediaType.HTML, include_in_schema=False)
async def landing() -> Response[bytes]:
    return _page("index.html")


@get("/m/{number:str}", media_type=MediaType.HTML, include_in_schema=False)
async def meeting_page(number: str) -> Response[bytes]:
    # The number is read by the page from its own URL; the server needs nothing from it.
    return _page("meeting.html")


@get("/r/{recording_id:str}", media_type=MediaType.HTML, include_in_schema=False)
async def recording_page(recording_id: str) -> Response[bytes]:
    # As for meetings: the page reads the id from its URL and asks GraphQL, which decides who may watch.
    return _page("play.html")


@get("/s/{share_id:str}", media_type=MediaType.HTML, include_in_schema=False)
async def shared_recording_page(share_id: str) -> Response[bytes]:
    return _page("play.html")


ROUTES: list[ControllerRouterHandler] = [
    landing,
    meeting_page,
    recording_page,
    shared_recording_page,
    # ES modules must come with a JavaScript MIME type (HTML spec, "fetch a single module script"); Python's
    # mimetypes gives text/javascript for .js.
    create_static_files_router(
        path="/web", directories=[WEB], include_in_schema=False, cache_control=None, send_as_attachment=False
    ),
]
