from __future__ import annotations

import pytest
from aiortc.codecs.h264 import H264Encoder

from edge.synthetic import encode_h264_clip
from sfu.h264 import h264_keyframe_size, h264_keyframe_start, sps_size


def _payloads(frame: bytes) -> list[bytes]:
    return H264Encoder._packetize(H264Encoder._split_bitstream(frame))


@pytest.mark.parametrize(
    ("width", "height", "profile"),
    [(320, 180, "baseline"), (160, 90, "baseline"), (1280, 720, "high"), (640, 360, "main"), (1920, 1080, "high")],
)
def test_key_frames_are_found_and_measured_in_what_libx264_and_aiortc_send(
    width: int, height: int, profile: str
) -> None:
    clip = encode_h264_clip(frames=6, fps=15, width=width, height=height, gop=5, bit_rate=2_000_000, profile=profile)
    for data, is_key in clip.frames:
        payloads = _payloads(data)
        assert h264_keyframe_start(payloads[0], 0) is is_key
        assert h264_keyframe_size(payloads[0], 0) == ((width, height) if is_key else None)
        # Only the first packet of a frame starts it (a large IDR goes out as FU-A fragments).
        assert not any(h264_keyframe_start(p, 0) for p in payloads[1:] if p[0] & 0x1F == 28 and not p[1] & 0x80)


def test_single_nal_units_and_fragments() -> None:
    sps_nal = _sps_of(encode_h264_clip(frames=1, width=320, height=240))
    assert h264_keyframe_start(sps_nal, 0) and h264_keyframe_size(sps_nal, 0) == (320, 240)
    pps = bytes([0x68, 0xCE, 0x38, 0x80])
    assert not h264_keyframe_start(pps, 0) and h264_keyframe_size(pps, 0) is None
    idr_start = bytes([0x7C, 0x85, 0x88, 0x84])  # FU-A, S=1, IDR: a key frame whose SPS was not sent in-band
    idr_middle = bytes([0x7C, 0x05, 0x88, 0x84])  # FU-A continuation
    non_idr_start = bytes([0x7C, 0x81, 0x9A, 0x00])  # FU-A, S=1, non-IDR slice
    assert h264_keyframe_start(idr_start, 0)
    assert not h264_keyframe_start(idr_middle, 0)
    assert not h264_keyframe_start(non_idr_start, 0)
    # An offset into a longer packet (the RTP header before the payload).
    assert h264_keyframe_start(b"\x00" * 12 + sps_nal, 12)
    assert not h264_keyframe_start(b"", 0) and not h264_keyframe_start(b"\x7c", 0)


def test_a_stap_a_that_is_cut_short_or_an_sps_that_is_garbage_is_no_key_frame_size() -> None:
    sps_nal = _sps_of(encode_h264_clip(frames=1, width=320, height=240))
    stap = bytes([0x78]) + len(sps_nal).to_bytes(2, "big") + sps_nal
    assert h264_keyframe_size(stap, 0) == (320, 240)
    assert h264_keyframe_size(stap[:-3], 0) is None
    assert sps_size(bytes([0x67, 0x42])) is None
    assert sps_size(bytes([0x67]) + b"\x00" * 12) is None  # exp-Golomb code running off the end


def test_emulation_prevention_bytes_are_removed_before_parsing() -> None:
    sps_nal = bytearray(_sps_of(encode_h264_clip(frames=1, width=1280, height=720)))
    sps_nal[2] = sps_nal[3] = 0  # constraint flags and level_idc (no bearing on the size): "00 00" in the RBSP
    # An encoder must insert 03 after such a pair when the next byte is 00..03; a decoder drops any 03 there.
    escaped = bytes(sps_nal[:4]) + b"\x03" + bytes(sps_nal[4:])
    assert sps_size(bytes(sps_nal)) == (1280, 720)
    assert sps_size(escaped) == (1280, 720)


def _sps_of(clip: object) -> bytes:
    frames = clip.frames  # type: ignore[attr-defined]
    for nal in H264Encoder._split_bitstream(frames[0][0]):
        if nal[0] & 0x1F == 7:
            return nal
    raise AssertionError("no SPS in the first frame")
