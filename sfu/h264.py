"""What the edge reads from H.264 RTP payloads (RFC 6184) without decoding: where a key frame starts, so a new
subscriber or a simulcast layer switch begins on one, and the picture size from the sequence parameter set
(ITU-T H.264 section 7.3.2.1.1), so simulcast layers are ranked by size as VP8 ones are.

A WebRTC sender puts the SPS and PPS in-band right before each IDR picture (a STAP-A, or single NAL unit
packets), so the key frame "starts" at the SPS: a subscriber started on the IDR slice alone could not decode it.
"""

from __future__ import annotations

NAL_IDR = 5
NAL_SPS = 7
NAL_STAP_A = 24
NAL_FU_A = 28

# Profiles whose SPS carries chroma format, bit depths and scaling matrices (H.264 section 7.3.2.1.1).
_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


def _nal_units(packet: bytes, offset: int) -> list[tuple[int, int, int]]:
    """(type, start, end) of each NAL unit a payload starts: one for a single NAL unit packet, each aggregated one
    for a STAP-A (up to a malformed length), the fragmented unit for the first FU-A fragment (its header is
    rebuilt by the receiver, so start/end cover only this fragment); none for a continuation fragment."""
    size = len(packet)
    if offset >= size:
        return []
    kind = packet[offset] & 0x1F
    if kind == NAL_STAP_A:
        units = []
        i = offset + 1
        while i + 2 < size:
            length = packet[i] << 8 | packet[i + 1]
            if length == 0 or i + 2 + length > size:
                break
            units.append((packet[i + 2] & 0x1F, i + 2, i + 2 + length))
            i += 2 + length
        return units
    if kind == NAL_FU_A:
        if offset + 1 >= size or not packet[offset + 1] & 0x80:  # S bit: the first fragment
            return []
        return [(packet[offset + 1] & 0x1F, offset, size)]
    return [(kind, offset, size)] if 1 <= kind <= 23 else []


def h264_keyframe_start(packet: bytes, offset: int) -> bool:
    """True if the H.264 RTP payload at ``offset`` begins a key frame: its SPS, or its IDR slice when the
    sender sent no SPS in-band before it."""
    types = [kind for kind, _, _ in _nal_units(packet, offset)]
    return bool(types) and (types[0] == NAL_IDR or NAL_SPS in types)


def h264_keyframe_size(packet: bytes, offset: int) -> tuple[int, int] | None:
    """(width, height) from an SPS in the payload at ``offset`` (single NAL unit or STAP-A), else None."""
    if offset >= len(packet) or packet[offset] & 0x1F == NAL_FU_A:  # an SPS is never fragmented in practice
        return None
    sps = next(((start, end) for kind, start, end in _nal_units(packet, offset) if kind == NAL_SPS), None)
    return sps_size(packet[sps[0] : sps[1]]) if sps is not None else None


class _Bits:
    """An MSB-first bit reader over an RBSP (emulation prevention bytes removed)."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def bit(self) -> int:
        byte = self.pos >> 3
        if byte >= len(self.data):
            raise ValueError("SPS ends early")
        value = (self.data[byte] >> (7 - (self.pos & 7))) & 1
        self.pos += 1
        return value

    def bits(self, n: int) -> int:
        value = 0
        for _ in range(n):
            value = value << 1 | self.bit()
        return value

    def ue(self) -> int:
        """Exp-Golomb unsigned (H.264 section 9.1)."""
        zeros = 0
        while not self.bit():
            zeros += 1
            if zeros > 31:
                raise ValueError("exp-Golomb code too long")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


def _rbsp(nal: bytes) -> bytes:
    """The NAL unit's payload without its header byte and emulation prevention bytes (00 00 03 → 00 00)."""
    out = bytearray()
    zeros = 0
    for byte in nal[1:]:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def sps_size(nal: bytes) -> tuple[int, int] | None:
    """The cropped picture size an SPS NAL unit (header byte included) describes; None if it is malformed."""
    try:
        return _sps_size(_Bits(_rbsp(nal)))
    except ValueError:
        return None


def _sps_size(r: _Bits) -> tuple[int, int]:
    profile_idc = r.bits(8)
    r.bits(16)  # constraint flags, level_idc
    r.ue()  # seq_parameter_set_id
    chroma_format_idc = 1
    if profile_idc in _HIGH_PROFILES:
        chroma_format_idc = r.ue()
        if chroma_format_idc == 3:
            r.bit()  # separate_colour_plane_flag
        r.ue()  # bit_depth_luma_minus8
        r.ue()  # bit_depth_chroma_minus8
        r.bit()  # qpprime_y_zero_transform_bypass_flag
        if r.bit():  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma_format_idc != 3 else 12):
                if r.bit():
                    _skip_scaling_list(r, 16 if i < 6 else 64)
    r.ue()  # log2_max_frame_num_minus4
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()  # log2_max_pic_order_cnt_lsb_minus4
    elif poc_type == 1:
        r.bit()  # delta_pic_order_always_zero_flag
        r.se()  # offset_for_non_ref_pic
        r.se()  # offset_for_top_to_bottom_field
        for _ in range(r.ue()):
            r.se()  # offset_for_ref_frame
    r.ue()  # max_num_ref_frames
    r.bit()  # gaps_in_frame_num_value_allowed_flag
    width_mbs = r.ue() + 1
    height_map_units = r.ue() + 1
    frame_mbs_only = r.bit()
    if not frame_mbs_only:
        r.bit()  # mb_adaptive_frame_field_flag
    r.bit()  # direct_8x8_inference_flag
    left = right = top = bottom = 0
    if r.bit():  # frame_cropping_flag
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
    # Crop units (H.264 equations 7-19 to 7-22): chroma samples for 4:2:0 and 4:2:2, luma otherwise.
    unit_x = 2 if chroma_format_idc in (1, 2) else 1
    unit_y = (2 if chroma_format_idc == 1 else 1) * (2 - frame_mbs_only)
    width = width_mbs * 16 - unit_x * (left + right)
    height = (2 - frame_mbs_only) * height_map_units * 16 - unit_y * (top + bottom)
    if width <= 0 or height <= 0:
        raise ValueError("cropped away")
    return width, height


def _skip_scaling_list(r: _Bits, size: int) -> None:
    last = next_scale = 8
    for _ in range(size):
        if next_scale:
            next_scale = (last + r.se() + 256) % 256
        last = next_scale or last
