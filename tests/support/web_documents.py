"""The GraphQL documents the web client sends, read from its source (web/**/*.js and *.html).

The client writes them as template literals, sometimes with ``${NAME}`` pieces that are string constants of the
same file (``const PARTICIPANT = "id displayName …"``) or exported by another module of the client (``import {
MEETING_FIELDS } from "./schedule.js"``); those are substituted, the file's own first. A piece that is not such a
constant is left in place, so a test parsing the result fails instead of skipping the document silently.
"""

from __future__ import annotations

import re
from pathlib import Path

_CONST = re.compile(r"const\s+([A-Za-z_]\w*)\s*=\s*(\"|`)(.*?)\2", re.S)
_TEMPLATE = re.compile(r"`([^`]*)`", re.S)
_PIECE = re.compile(r"\$\{\s*([A-Za-z_]\w*)\s*\}")
_OPERATION = re.compile(r"^\s*((query|mutation|subscription)\s*(\w+\s*)?[({]|\{)")


def _substitute(text: str, constants: dict[str, str]) -> str:
    for _ in range(10):  # constants built from constants: a few levels at most
        replaced = _PIECE.sub(lambda m: constants.get(m.group(1), m.group(0)), text)
        if replaced == text:
            return text
        text = replaced
    return text


def web_documents(web_dir: Path) -> dict[str, str]:
    """``"file:line" -> document`` for every literal in the client that reads as a GraphQL operation."""
    found: dict[str, str] = {}
    paths = [
        p
        for p in sorted([*web_dir.rglob("*.js"), *web_dir.rglob("*.html")])
        if "node_modules" not in p.relative_to(web_dir).parts  # the npm dependencies: not ours, no GraphQL
    ]
    sources = {path: path.read_text() for path in paths}
    exported = {m.group(1): m.group(3) for source in sources.values() for m in _CONST.finditer(source)}
    for path, source in sources.items():
        constants = exported | {m.group(1): m.group(3) for m in _CONST.finditer(source)}
        for m in _TEMPLATE.finditer(source):
            text = _substitute(m.group(1), constants)
            if _OPERATION.match(text):
                line = source.count("\n", 0, m.start()) + 1
                found[f"{path.relative_to(web_dir)}:{line}"] = text
    return found
