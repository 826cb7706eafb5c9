"""Signed download URLs, display file names and content sniffing (no server, explicit clocks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.chat import files
from api.security import Credentials
from api.settings import Settings

KEY = b"k" * 32  # any key: derivation is Credentials.derive_key, tested below


def _parts(path: str) -> tuple[str, int, str]:
    file_id, query = path.removeprefix("/files/").split("?")
    q = dict(kv.split("=") for kv in query.split("&"))
    return file_id, int(q["exp"]), q["sig"]


def test_a_signed_url_verifies_until_it_expires() -> None:
    now = 1_000_000.0
    exp = files.url_expiry(now)
    assert now + files.URL_TTL_S <= exp < now + files.URL_TTL_S + 60 and exp % 60 == 0
    file_id, e, sig = _parts(files.signed_path(KEY, "abc", exp))
    assert (file_id, e) == ("abc", exp)
    assert files.verify(KEY, "abc", e, sig, now)
    assert files.verify(KEY, "abc", e, sig, exp)
    assert not files.verify(KEY, "abc", e, sig, exp + 1)


def test_anything_changed_fails() -> None:
    exp = files.url_expiry(0.0)
    _, _, sig = _parts(files.signed_path(KEY, "abc", exp))
    assert not files.verify(KEY, "abd", exp, sig, 0.0)
    assert not files.verify(KEY, "abc", exp + 60, sig, 0.0)
    assert not files.verify(KEY, "abc", exp, sig[:-1] + ("A" if sig[-1] != "A" else "B"), 0.0)
    assert not files.verify(b"o" * 32, "abc", exp, sig, 0.0)
    assert not files.verify(KEY, "abc", None, sig, 0.0) and not files.verify(KEY, "abc", exp, None, 0.0)


def test_urls_within_a_minute_are_identical() -> None:
    assert files.url_expiry(120.5) == files.url_expiry(150.0) == files.url_expiry(179.9) == 3780


def test_the_key_is_derived_per_purpose_and_deployment(tmp_path: Path) -> None:
    a = Credentials(Settings(data_dir=tmp_path / "a", secret_key="deployment secret"))
    b = Credentials(Settings(data_dir=tmp_path / "b", secret_key="another secret"))
    key = a.derive_key(files.KEY_PURPOSE)
    assert len(key) == 32 and key == Credentials(
        Settings(data_dir=tmp_path / "c", secret_key="deployment secret")
    ).derive_key(files.KEY_PURPOSE)
    assert key != a.derive_key(b"something else") and key != b.derive_key(files.KEY_PURPOSE)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (None, "file"),
        ("", "file"),
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\secret.docx", "secret.docx"),
        ("/abs/path/", "path"),
        ("..", "file"),
        (".bashrc", "bashrc"),
        ("bell\x07\nname.txt", "bellname.txt"),
        ("a" * 300 + ".txt", "a" * 251 + ".txt"),
        ("é" * 300, "é" * 255),
    ],
)
def test_display_filename(raw: str | None, shown: str) -> None:
    assert files.display_filename(raw) == shown


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 16, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 16, "image/jpeg"),
        (b"%PDF-1.4\n", "application/pdf"),
        (b"PK\x03\x04" + b"\x00" * 26, "application/zip"),
        (b"<!doctype html><script>", "text/plain"),
        ("ünïcödé text\n".encode(), "text/plain"),
        ("ü".encode()[:1], "text/plain"),  # a character cut at the end of the sniffed window
        (b"\x00\x01\x02\x03binary", "application/octet-stream"),
        (b"\xff\xfe\xfd not utf-8", "application/octet-stream"),
    ],
)
def test_sniff(head: bytes, mime: str) -> None:
    assert files.sniff(head) == mime
