"""The export archive writer (api/privacy/archive.py): contents, and the size bound holding even when files
change between planning and writing."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from api.errors import PayloadTooLargeError
from api.privacy.archive import Member, check_size, plan_size, write


def test_writes_data_json_and_files_stored(tmp_path: Path) -> None:
    media = tmp_path / "recording.mp4"
    media.write_bytes(b"\1" * 1000)
    body, total = plan_size({"a": "ü"}, [Member("recordings/r/recording.mp4", media, 1000)])
    assert total == len(body) + 1000
    out = tmp_path / "x.zip"
    size = write(out, body, [Member("recordings/r/recording.mp4", media, 1000)], limit=10_000)
    assert size == out.stat().st_size
    with zipfile.ZipFile(out) as z:
        assert z.read("data.json") == body and '"ü"' in body.decode()
        info = z.getinfo("recordings/r/recording.mp4")
        assert info.compress_type == zipfile.ZIP_STORED and z.read(info) == b"\1" * 1000


def test_a_file_gone_meanwhile_is_skipped(tmp_path: Path) -> None:
    out = tmp_path / "x.zip"
    write(out, b"{}", [Member("recordings/r/gone.mp4", tmp_path / "gone.mp4", 10)], limit=100)
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == ["data.json"]


def test_a_file_that_grew_past_the_limit_stops_the_export(tmp_path: Path) -> None:
    media = tmp_path / "recording.mp4"
    media.write_bytes(b"\0" * 5000)  # planned at 10 bytes, now 5000
    with pytest.raises(PayloadTooLargeError):
        write(tmp_path / "x.zip", b"{}", [Member("recordings/r/recording.mp4", media, 10)], limit=1000)


@pytest.mark.parametrize(
    ("total", "limit", "ok"), [(0, 0, True), (10, 10, True), (11, 10, False), (10**12, 2**31, False)]
)
def test_check_size(total: int, limit: int, ok: bool) -> None:
    if ok:
        check_size(total, limit)
    else:
        with pytest.raises(PayloadTooLargeError, match=str(limit)):
            check_size(total, limit)
