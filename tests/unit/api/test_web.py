"""What ``/web/*`` serves: our own modules, pages and styles by type, and of ``web/node_modules`` only the files
the import map and the icons need (needs ``web/install.sh`` to have run, as ``just test`` does)."""

from __future__ import annotations

import json
import re

import pytest

from api.web import COLLAB_IMPORT_MAP, NODE_MODULES, WEB, page_html, web_file


@pytest.mark.parametrize(
    ("relative", "media_type"),
    [
        ("sdk/index.js", "text/javascript"),
        ("app.css", "text/css"),
        ("design/tokens.css", "text/css"),
        ("i18n/en.js", "text/javascript"),
        ("manifest.webmanifest", "application/manifest+json"),
        ("vendor/lit/index.js", "text/javascript"),
        ("vendor/lit-html/lit-html.js", "text/javascript"),
        ("vendor/lit-html/directives/live.js", "text/javascript"),
        ("vendor/lit-element/lit-element.js", "text/javascript"),
        ("vendor/@lit/reactive-element/reactive-element.js", "text/javascript"),
        ("vendor/lucide-static/icons/calendar.svg", "image/svg+xml"),
        ("vendor/graphiql/graphiql.min.js", "text/javascript"),
        ("vendor/graphiql/graphiql.min.css", "text/css"),
        ("vendor/react/umd/react.production.min.js", "text/javascript"),
        ("vendor/react-dom/umd/react-dom.production.min.js", "text/javascript"),
        ("graphiql.html", "text/html"),
        # Virtual backgrounds: the segmentation script, its wasm (streamed compilation needs application/wasm),
        # its model, and our own pictures.
        ("vendor/@mediapipe/selfie_segmentation/selfie_segmentation.js", "text/javascript"),
        ("vendor/@mediapipe/selfie_segmentation/selfie_segmentation_solution_simd_wasm_bin.wasm", "application/wasm"),
        ("vendor/@mediapipe/selfie_segmentation/selfie_segmentation_landscape.tflite", "application/octet-stream"),
        ("vendor/@mediapipe/selfie_segmentation/selfie_segmentation.binarypb", "application/octet-stream"),
        ("backgrounds/beach.svg", "image/svg+xml"),
    ],
)
def test_serves_pages_modules_and_the_vendored_files(relative: str, media_type: str) -> None:
    found = web_file(relative)
    assert found is not None, relative
    path, served_as = found
    assert served_as == media_type
    assert path.is_file() and (path.is_relative_to(WEB))


@pytest.mark.parametrize(
    "relative",
    [
        "node_modules/lit/index.js",  # the tree itself is never exposed
        "package.json",
        "package-lock.json",
        "install.sh",
        "vendor/lit/package.json",
        "vendor/lit/development/index.js",  # the development build: not imported by pages
        "vendor/lit-html/node/lit-html.js",
        "vendor/lit/index.js.map",
        "vendor/axe-core/axe.min.js",  # tests inject it from disk; pages never load it
        "vendor/lucide-static/font/lucide.woff",
        "vendor/graphiql/graphiql.js",  # of these packages only the minified bundles
        "vendor/graphiql/esm/index.js",
        "vendor/react/umd/react.development.js",
        "vendor/react/index.js",
        "vendor/@mediapipe/selfie_segmentation/package.json",
        "vendor/@mediapipe/selfie_segmentation/index.d.ts",
        "vendor/lit/../../package.json",
        "vendor/lucide-static/icons/../../../package.json",
        "sdk/../../pyproject.toml",
        "../pyproject.toml",
        "sdk/nope.js",
        ".gitignore",
    ],
)
def test_refuses_everything_else(relative: str) -> None:
    assert NODE_MODULES.is_dir(), "run web/install.sh (just test does)"
    assert web_file(relative) is None


def _under_web(url: str) -> str | None:
    return url.removeprefix("/web/") if url.startswith("/web/") else None


def test_every_import_map_entry_and_shell_file_is_served() -> None:
    # The import map (web/index.html): each target, or for a "prefix/" entry the package's entry module.
    page = (WEB / "index.html").read_text()
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', page, re.S).group(1))["imports"]  # type: ignore[union-attr]
    assert {"lit", "lit-html", "@lit/reactive-element"} <= imports.keys()
    for name, target in imports.items():
        relative = _under_web(target)
        assert relative is not None, name
        if target.endswith("/"):
            assert (NODE_MODULES / relative.removeprefix("vendor/")).is_dir(), name
        else:
            assert web_file(relative) is not None, (name, target)
    # The service worker's precached shell: one missing file and the whole install fails (Cache.addAll).
    shell = re.search(r"const SHELL = \[(.*?)\];", (WEB / "sw.js").read_text(), re.S).group(1)  # type: ignore[union-attr]
    for url in re.findall(r'"([^"]+)"', shell):
        relative = _under_web(url)
        assert url == "/" or (relative is not None and web_file(relative) is not None), url


def test_the_meeting_pages_import_map_serves_everything_yjs_imports() -> None:
    # The meeting and recording pages map yjs, y-protocols, lib0 and perfect-freehand (web/collab, loaded on first
    # open) from web/collab/importmap.json, written into each page as served. Every bare specifier those modules
    # import must be in the map, or the browser refuses the whole module graph.
    for name in ("meeting.html", "play.html", "documents.html"):
        served = page_html(WEB / name).decode()
        found = re.search(r'<script type="importmap">(.*?)</script>', served, re.S)
        assert found is not None and "collab-importmap" not in served, name
        assert json.loads(found.group(1)) == json.loads(COLLAB_IMPORT_MAP.read_text()), name
    imports = json.loads(COLLAB_IMPORT_MAP.read_text())["imports"]
    for name, target in imports.items():
        relative = _under_web(target)
        assert relative is not None and web_file(relative) is not None, (name, target)
    seen: set[str] = set()
    todo = ["yjs", "y-protocols/sync", "y-protocols/awareness", "perfect-freehand"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        assert name in imports, f"{name} is imported but not in web/collab/importmap.json"
        path = NODE_MODULES / imports[name].removeprefix("/web/vendor/")
        source = path.read_text()
        for spec in re.findall(r"""(?:from|import)\s*['"]([^'"./][^'"]*)['"]""", source):
            todo.append(spec)
        for spec in re.findall(r"""(?:from|import)\s*['"](\.[^'"]*)['"]""", source):
            inner = (path.parent / spec).resolve().relative_to(NODE_MODULES.resolve())
            assert web_file(f"vendor/{inner}") is not None, (name, spec)
    assert {"lib0/encoding", "lib0/observable"} <= seen


def test_the_manifest_names_the_app_and_its_icons_exist() -> None:
    manifest = json.loads((WEB / "manifest.webmanifest").read_text())
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes  # what browsers require to offer installation
    for icon in manifest["icons"]:
        relative = _under_web(icon["src"])
        assert relative is not None and web_file(relative) is not None, icon["src"]
