"""The RFC 6464 client-to-mixer audio level, read straight out of an RTP packet's header extension, sans-I/O.

The level travels in a header extension whose id each peer connection negotiates
(``urn:ietf:params:rtp-hdrext:ssrc-audio-level``); the extension block is either the one-byte form (profile
0xBEDE, RFC 8285 section 4.2) or the two-byte form (profile 0x100X, RFC 8285 section 4.3). This runs on every
audio packet the edge receives, so it walks the bytes in place and returns an ``int`` (no objects).
"""

from __future__ import annotations

AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
NO_LEVEL = -1
"""What :func:`read_audio_level` returns when the packet carries no level."""

_ONE_BYTE_PROFILE = 0xBEDE  # RFC 8285 section 4.2
_TWO_BYTE_PROFILE_MASK = 0xFFF0  # RFC 8285 section 4.3: 0x100 then 4 "appbits"
_TWO_BYTE_PROFILE = 0x1000


def read_audio_level(packet: bytes, ext_id: int) -> int:
    """``(V << 7) | level`` from the extension with id ``ext_id`` (RFC 6464 section 3: V is the voice activity
    flag, level is 0..127 in -dBov, 127 being silence), or :data:`NO_LEVEL`. Malformed extensions read as none."""
    size = len(packet)
    if size < 12 or not packet[0] & 0x10:
        return NO_LEVEL
    offset = 12 + 4 * (packet[0] & 0x0F)
    if offset + 4 > size:
        return NO_LEVEL
    profile = (packet[offset] << 8) | packet[offset + 1]
    end = offset + 4 + 4 * ((packet[offset + 2] << 8) | packet[offset + 3])
    if end > size:
        return NO_LEVEL
    i = offset + 4
    if profile == _ONE_BYTE_PROFILE:
        while i < end:
            byte = packet[i]
            if byte == 0:  # padding (RFC 8285 section 4.2)
                i += 1
                continue
            ext, length = byte >> 4, (byte & 0x0F) + 1
            if ext == 15:  # reserved: stop processing (RFC 8285 section 4.2)
                return NO_LEVEL
            if ext == ext_id:
                return packet[i + 1] if i + 1 < end else NO_LEVEL
            i += 1 + length
    elif profile & _TWO_BYTE_PROFILE_MASK == _TWO_BYTE_PROFILE:
        while i + 1 < end:
            ext = packet[i]
            if ext == 0:  # padding
                i += 1
                continue
            length = packet[i + 1]
            if ext == ext_id:
                return packet[i + 2] if length >= 1 and i + 2 < end else NO_LEVEL
            i += 2 + length
    return NO_LEVEL
