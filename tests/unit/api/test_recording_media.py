from __future__ import annotations

import pytest

from api.recordings.media import RangeNotSatisfiableError, byte_range, signed_path, verify


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-99", (0, 99)),
        ("bytes=10-", (10, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=-5000", (0, 999)),  # a suffix longer than the file is the whole file
        ("bytes=990-5000", (990, 999)),  # the end is clipped
        ("bytes=0-0", (0, 0)),
        ("bytes=5-2", None),  # invalid: ignored, whole file
        ("bytes=0-1,5-9", None),  # several ranges: RFC 9110 lets us send the whole file
        ("items=0-1", None),
        ("bytes=-", None),
    ],
)
def test_byte_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=2000-3000", "bytes=-0"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiableError):
        byte_range(header, 1000)


def test_signed_paths_bind_recording_name_and_expiry() -> None:
    key = b"k" * 32
    path = signed_path(key, "rec1", "recording.mp4", 2000)
    query = dict(part.split("=", 1) for part in path.split("?", 1)[1].split("&"))
    assert verify(key, "rec1", "recording.mp4", 2000, query["sig"], now=1000)
    assert not verify(key, "rec1", "audio.m4a", 2000, query["sig"], now=1000)
    assert not verify(key, "rec2", "recording.mp4", 2000, query["sig"], now=1000)
    assert not verify(key, "rec1", "recording.mp4", 2001, query["sig"], now=1000)
    assert not verify(key, "rec1", "recording.mp4", 2000, query["sig"], now=2001)  # expired
    assert not verify(b"x" * 32, "rec1", "recording.mp4", 2000, query["sig"], now=1000)
