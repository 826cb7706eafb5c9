"""The string catalogue (web/i18n/): English is complete, German has the same keys with the same placeholders,
and every key the client asks for by name exists."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[3] / "web"
_ENTRY = re.compile(r'^\s*"([\w.]+)":\s*"((?:[^"\\]|\\.)*)",?\s*$', re.M)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def catalogue(lang: str) -> dict[str, str]:
    text = (WEB / "i18n" / f"{lang}.js").read_text()
    entries = _ENTRY.findall(text)
    assert len(entries) == len({k for k, _ in entries}), f"{lang}: a key appears twice"
    return dict(entries)


def test_german_has_every_english_key_with_the_same_placeholders() -> None:
    en, de = catalogue("en"), catalogue("de")
    assert len(en) > 150
    assert sorted(en.keys() - de.keys()) == []
    assert sorted(de.keys() - en.keys()) == []
    for key, text in en.items():
        assert set(_PLACEHOLDER.findall(de[key])) == set(_PLACEHOLDER.findall(text)), key


def test_every_key_the_client_names_exists_in_english() -> None:
    en = catalogue("en")
    used: dict[str, str] = {}
    for path in WEB.rglob("*.js"):
        if "node_modules" in path.parts:
            continue
        for m in re.finditer(r"""\bt\(\s*"([\w.]+)"|"((?:error)\.[\w]+)"\]""", path.read_text()):
            used[m.group(1) or m.group(2)] = str(path.relative_to(WEB))
    assert len(used) > 80
    assert {k: where for k, where in used.items() if k not in en} == {}
