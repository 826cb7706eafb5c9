"""The browser client: ``web/`` (ES modules, no build step) served as it is on disk.

``/`` is the home page (sign in; schedule, invite, start, recordings), ``/m/{number}`` the meeting page
(pre-join → waiting room → meeting), ``/r/{recording id}`` (members) and ``/s/{share id}`` (share links) the
recording player, ``/web/*`` the modules, among them the embeddable SDK at ``/web/sdk/index.js``, and
``/web/vendor/*`` the few files of the npm dependencies (``web/node_modules``, installed by ``web/install.sh``)
that pages import through their import map. ``/sw.js`` is the service worker (served from the root so that its
scope covers every page).
"""

from __future__ import annotations

from pathlib import Path

from litestar import MediaType, Response, get
from litestar.exceptions import NotFoundException
from litestar.response import File
from litestar.types import ControllerRouterHandler

WEB = Path(__file__).resolve().parent.parent / "web"
NODE_MODULES = WEB / "node_modules"

# What /web/* serves of our own files, by suffix. ES modules must come with a JavaScript MIME type (HTML spec,
# "fetch a single module script"). Anything else (package.json, install.sh, dotfiles) is not served.
_OWN_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
}
# Vendored files may also be the segmentation model's wasm (compiled while it streams only when served as
# application/wasm, WebAssembly JS API "compileStreaming") and its model files.
_VENDOR_TYPES = _OWN_TYPES | {
    ".wasm": "application/wasm",
    ".tflite": "application/octet-stream",
    ".binarypb": "application/octet-stream",
    ".data": "application/octet-stream",
}
_SEGMENTATION = "@mediapipe/selfie_segmentation/"
# Of node_modules only what the pages import: the packages behind the import map, the icon set's SVGs. Their
# development/ and node/ builds, sources, maps and READMEs stay private.
VENDOR: dict[str, str] = {
    "lit": ".js",
    "lit-html": ".js",
    "lit-element": ".js",
    "@lit/reactive-element": ".js",
    "lucide-static/icons": ".svg",
    # Shared notes and whiteboards (web/collab): the CRDT, its protocols and the encoding helpers they share.
    "lib0": ".js",
    "y-protocols": ".js",
}
_VENDOR_SKIP = ("development", "node", "bin", "test", "dist")
# Single files: the API explorer's GraphiQL bundle and the React builds it runs on (web/graphiql.html).
VENDOR_FILES = frozenset(
    {
        "graphiql/graphiql.min.js",
        "graphiql/graphiql.min.css",
        "react/umd/react.production.min.js",
        "react-dom/umd/react-dom.production.min.js",
        # The REST API's reference page (web/api-docs.html, /api/v1/docs).
        "swagger-ui-dist/swagger-ui-bundle.js",
        "swagger-ui-dist/swagger-ui.css",
        "yjs/dist/yjs.mjs",
        "perfect-freehand/dist/esm/index.mjs",
        # Virtual backgrounds (web/sdk/background.js): the selfie segmentation script, its wasm builds (with and
        # without SIMD; the script picks one) and the graph and models it loads through locateFile.
        *(
            _SEGMENTATION + name
            for name in (
                "selfie_segmentation.js",
                "selfie_segmentation.binarypb",
                "selfie_segmentation.tflite",
                "selfie_segmentation_landscape.tflite",
                "selfie_segmentation_solution_simd_wasm_bin.js",
                "selfie_segmentation_solution_simd_wasm_bin.wasm",
                "selfie_segmentation_solution_simd_wasm_bin.data",
                "selfie_segmentation_solution_wasm_bin.js",
                "selfie_segmentation_solution_wasm_bin.wasm",
            )
        ),
    }
)

# Pages hold no secrets and change with each deploy: revalidate every time (ETag/Last-Modified answer 304).
_REVALIDATE = {"cache-control": "no-cache"}


COLLAB_IMPORT_MAP = WEB / "collab" / "importmap.json"
_COLLAB_PLACEHOLDER = b"<!-- collab-importmap -->"


def page_html(path: Path) -> bytes:
    """A page as served: the shared documents' import map (Yjs and its helpers, web/collab/importmap.json) written
    in where the page asks for it, so the meeting and recording pages map the same modules from one file (an
    import map must be inline: browsers do not load one from a URL)."""
    html = path.read_bytes()
    if _COLLAB_PLACEHOLDER in html:
        mapping = b'<script type="importmap">\n' + COLLAB_IMPORT_MAP.read_bytes() + b"</script>"
        html = html.replace(_COLLAB_PLACEHOLDER, mapping)
    return html


def _page(name: str) -> Response[bytes]:
    return Response(page_html(WEB / name), media_type=MediaType.HTML, headers=_REVALIDATE)


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


@get("/d/{meeting_id:str}", media_type=MediaType.HTML, include_in_schema=False)
async def documents_page(meeting_id: str) -> Response[bytes]:
    # A meeting's notes and whiteboard afterwards (web/documents.js); GraphQL and the collab socket decide who.
    return _page("documents.html")


@get("/s/{share_id:str}", media_type=MediaType.HTML, include_in_schema=False)
async def shared_recording_page(share_id: str) -> Response[bytes]:
    return _page("play.html")


def _inside(root: Path, relative: str) -> Path | None:
    """``root/relative`` if it is a file below ``root`` (no ``..`` or symlink escapes), else None."""
    path = (root / relative).resolve()
    return path if path.is_relative_to(root.resolve()) and path.is_file() else None


def _vendor_file(relative: str) -> tuple[Path, str] | None:
    if relative in VENDOR_FILES:
        path = _inside(NODE_MODULES, relative)
        return (path, _VENDOR_TYPES[Path(relative).suffix]) if path else None
    for package, suffix in VENDOR.items():
        if relative.startswith(package + "/") and relative.endswith(suffix):
            rest = relative[len(package) + 1 :]
            if rest.split("/", 1)[0] in _VENDOR_SKIP:
                return None
            path = _inside(NODE_MODULES / package, rest)
            return (path, _OWN_TYPES[suffix]) if path else None
    return None


def web_file(relative: str) -> tuple[Path, str] | None:
    """The file and media type ``/web/<relative>`` serves, or None (404)."""
    if relative.startswith("vendor/"):
        return _vendor_file(relative.removeprefix("vendor/"))
    parts = relative.split("/")
    if parts[0] == "node_modules" or any(p.startswith(".") for p in parts):
        return None
    media_type = _OWN_TYPES.get(Path(relative).suffix)
    path = _inside(WEB, relative) if media_type else None
    return (path, media_type) if path and media_type else None


@get("/web/{relative:path}", include_in_schema=False)
async def web_asset(relative: str) -> File | Response[bytes]:
    found = web_file(relative.lstrip("/"))
    if found is None:
        raise NotFoundException(f"no such file: /web/{relative.lstrip('/')}")
    path, media_type = found
    if media_type == MediaType.HTML:
        return Response(page_html(path), media_type=media_type, headers=_REVALIDATE)
    return File(path, media_type=media_type, content_disposition_type="inline", headers=_REVALIDATE)


@get("/sw.js", include_in_schema=False)
async def service_worker() -> File:
    # At the root its default scope is "/", so it can serve the shell of /, /m/… and /r/… offline.
    return File(WEB / "sw.js", media_type="text/javascript", content_disposition_type="inline", headers=_REVALIDATE)


ROUTES: list[ControllerRouterHandler] = [
    landing,
    meeting_page,
    recording_page,
    shared_recording_page,
    documents_page,
    web_asset,
    service_worker,
]
