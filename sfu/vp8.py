"""VP8 over RTP, read without decoding: the payload descriptor (RFC 7741 section 4.2) and the start of the VP8
payload header (RFC 7741 section 4.3, RFC 6386 section 9.1). Sans-I/O, stdlib only.

The forwarder gates subscribers on key frames and keeps PictureID/TL0PICIDX continuous across source switches;
simulcast receive learns each layer's picture size from its key frames. ``offset`` is always where the RTP
payload starts (:func:`sfu.forwarder.payload_offset`).
"""

from __future__ import annotations


def vp8_keyframe_start(packet: bytes, offset: int) -> bool:
    """True if the VP8 RTP payload at ``offset`` starts a key frame: S=1 and PID=0 in the payload descriptor
    (RFC 7741 section 4.2), then P=0 in the VP8 payload header (RFC 7741 section 4.3, RFC 6386 section 9.1)."""
    size = len(packet)
    if offset >= size:
        return False
    first = packet[offset]
    if not first & 0x10 or first & 0x07:
        return False
    i = offset + 1
    if first & 0x80:  # X: extension octet follows
        if i >= size:
            return False
        ext = packet[i]
        i += 1
        if ext & 0x80:  # I: PictureID, 7 or 15 bits (M flag)
            if i >= size:
                return False
            i += 2 if packet[i] & 0x80 else 1
        if ext & 0x40:  # L: TL0PICIDX
            i += 1
        if ext & 0x30:  # T and/or K share one octet
            i += 1
    return i < size and not packet[i] & 0x01


def vp8_picture_ids(payload: bytes, offset: int) -> tuple[int | None, bool, int | None]:
    """(PictureID, whether it is the 15-bit form, TL0PICIDX) from the VP8 payload descriptor at ``offset``
    (RFC 7741 section 4.2); None for a field the descriptor leaves out."""
    size = len(payload)
    if offset >= size or not payload[offset] & 0x80:
        return None, False, None
    i = offset + 1
    if i >= size:
        return None, False, None
    ext = payload[i]
    i += 1
    picture_id: int | None = None
    long_form = False
    if ext & 0x80:
        if i >= size:
            return None, False, None
        if payload[i] & 0x80:
            if i + 1 >= size:
                return None, False, None
            picture_id, long_form = ((payload[i] & 0x7F) << 8) | payload[i + 1], True
            i += 2
        else:
            picture_id = payload[i]
            i += 1
    tl0 = payload[i] if ext & 0x40 and i < size else None
    return picture_id, long_form, tl0


def vp8_shift_picture_ids(payload: bytes, offset: int, picture_delta: int, tl0_delta: int) -> bytes:
    """``payload`` with the VP8 descriptor's PictureID (in its own width) and TL0PICIDX advanced by the deltas."""
    picture_id, long_form, tl0 = vp8_picture_ids(payload, offset)
    if picture_id is None and tl0 is None:
        return payload
    out = bytearray(payload)
    i = offset + 2
    if picture_id is not None:
        if long_form:
            shifted = (picture_id + picture_delta) & 0x7FFF
            out[i], out[i + 1] = 0x80 | (shifted >> 8), shifted & 0xFF
            i += 2
        else:
            out[i] = (picture_id + picture_delta) & 0x7F
            i += 1
    if tl0 is not None:
        out[i] = (tl0 + tl0_delta) & 0xFF
    return bytes(out)


def vp8_keyframe_size(packet: bytes, offset: int) -> tuple[int, int] | None:
    """(width, height) if the VP8 RTP payload at ``offset`` starts a key frame, else None. The size follows the
    key frame's start code (RFC 6386 section 9.1) right after the payload descriptor (RFC 7741 section 4.2), so
    the edge learns each simulcast layer's resolution without decoding."""
    size = len(packet)
    if offset >= size:
        return None
    first = packet[offset]
    if not first & 0x10 or first & 0x07:  # S=1 and PID=0: the first packet of a frame
        return None
    i = offset + 1
    if first & 0x80:
        if i >= size:
            return None
        ext = packet[i]
        i += 1
        if ext & 0x80:
            if i >= size:
                return None
            i += 2 if packet[i] & 0x80 else 1
        if ext & 0x40:
            i += 1
        if ext & 0x30:
            i += 1
    if i + 10 > size or packet[i] & 0x01 or packet[i + 3 : i + 6] != b"\x9d\x01\x2a":
        return None
    width = (packet[i + 6] | packet[i + 7] << 8) & 0x3FFF
    height = (packet[i + 8] | packet[i + 9] << 8) & 0x3FFF
    return width, height
