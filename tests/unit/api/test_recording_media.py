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


@pytest.mark.parametrize(
    "header",
    [
        "bytes=٣-",  # Arabic-Indic: \d took it and int() read it as 3
        "bytes=0-٩",
        "bytes=-١٠",
        "bytes=１-２",
        "bytes=²-",
        "bytes=1e3-",
        "bytes=+1-",
        "bytes=0x1-",
        "bytes=1_0-",
        "bytes=0-9\n0",
        "bytes=-0-",
    ],
)
def test_ranges_with_non_ascii_or_foreign_number_forms_are_ignored(header: str) -> None:
    assert byte_range(header, 1000) is None


@pytest.mark.parametrize("digits", ["9" * 20, "9" * 5000, "0" * 5000 + "1"])
def test_overlong_positions_are_past_the_end_not_a_crash(digits: str) -> None:
    with pytest.raises(RangeNotSatisfiableError):
        byte_range(f"bytes={'9' * len(digits)}-", 1000)
    assert byte_range(f"bytes=10-{digits}", 1000) == (10, 999)
    assert byte_range(f"bytes=-{digits}", 1000) == (0, 999)
