"""VP8 payload descriptor parsing (RFC 7741 section 4.2) and the key frame header (RFC 6386 section 9.1)."""

from __future__ import annotations

import struct

import pytest

from sfu.vp8 import vp8_keyframe_size, vp8_keyframe_start


@pytest.mark.parametrize(
    ("payload", "is_key"),
    [
        (bytes([0x10, 0x00]), True),  # no extension, S=1, key
        (bytes([0x10, 0x01]), False),  # inter frame
        (bytes([0x00, 0x00]), False),  # not the start of a partition
        (bytes([0x11, 0x00]), False),  # partition 1, not the frame start
        (bytes([0x90, 0xE0, 0x81, 0x02, 0x03, 0x40, 0x00]), True),  # I (15-bit PictureID), L, T/K, key
        (bytes([0x90, 0xE0, 0x81, 0x02, 0x03, 0x40, 0x01]), False),  # same, inter frame
        (bytes([0x90, 0x80, 0x81]), False),  # truncated
        (b"", False),
    ],
)
def test_vp8_keyframe_detection(payload: bytes, is_key: bool) -> None:
    assert vp8_keyframe_start(payload, 0) is is_key


def test_vp8_keyframe_size() -> None:
    # Descriptor: X=1,S=1 / I=1 / 15-bit picture id; then a key frame tag, start code, 640x360 (scale bits set).
    descriptor = bytes([0x90, 0x80, 0x80, 0x01])
    frame = bytes([0x50, 0x00, 0x00]) + b"\x9d\x01\x2a" + struct.pack("<HH", 640 | 0x4000, 360)
    packet = struct.pack("!BBHII", 0x80, 96, 1, 2, 3) + descriptor + frame
    assert vp8_keyframe_size(packet, 12) == (640, 360)
    interframe = descriptor + bytes([0x51]) + frame[1:]
    assert vp8_keyframe_size(struct.pack("!BBHII", 0x80, 96, 1, 2, 3) + interframe, 12) is None
    continuation = bytes([0x80]) + descriptor[1:] + frame  # S=0: not the start of a frame
    assert vp8_keyframe_size(struct.pack("!BBHII", 0x80, 96, 1, 2, 3) + continuation, 12) is None
