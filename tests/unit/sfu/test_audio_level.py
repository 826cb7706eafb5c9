"""RFC 6464 audio level from both RFC 8285 header-extension forms, checked against aiortc's own serialiser."""

from __future__ import annotations

import struct

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from sfu.audio_level import AUDIO_LEVEL_URI, NO_LEVEL, read_audio_level


def aiortc_packet(ext_id: int, voice: bool, level: int, *, with_mid: bool = True) -> bytes:
    """A packet serialised by aiortc (an independent implementation) with mid + audio level extensions."""
    extensions = [RTCRtpHeaderExtensionParameters(id=ext_id, uri=AUDIO_LEVEL_URI)]
    if with_mid:
        extensions.insert(0, RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"))
    ext_map = HeaderExtensionsMap()
    ext_map.configure(RTCRtpParameters(headerExtensions=extensions))
    packet = RtpPacket(payload_type=111, sequence_number=1, timestamp=2, ssrc=3, payload=b"opus")
    if with_mid:
        packet.extensions.mid = "0"
    packet.extensions.audio_level = (voice, level)
    return packet.serialize(ext_map)


@pytest.mark.parametrize(("ext_id", "voice", "level"), [(2, True, 30), (4, False, 127), (14, True, 0)])
def test_one_byte_form_as_aiortc_writes_it(ext_id: int, voice: bool, level: int) -> None:
    packet = aiortc_packet(ext_id, voice, level)
    assert packet[12:14] == b"\xbe\xde"
    assert read_audio_level(packet, ext_id) == (0x80 if voice else 0) | level


def test_absent_extension_or_no_extension_block() -> None:
    assert read_audio_level(aiortc_packet(2, True, 10), 3) == NO_LEVEL
    plain = struct.pack("!BBHII", 0x80, 111, 1, 2, 3) + b"opus"
    assert read_audio_level(plain, 1) == NO_LEVEL


def test_two_byte_form_with_padding_and_csrcs() -> None:
    # RFC 8285 section 4.3: profile 0x1000, elements (id, length, data), padding zeros between them.
    elements = bytes([7, 2, 0xAA, 0xBB, 0, 0, 5, 1, 0x80 | 42])
    elements += bytes(-len(elements) % 4)
    header = struct.pack("!BBHII", 0x91, 111, 1, 2, 3) + struct.pack("!I", 0xC5C5)
    packet = header + struct.pack("!HH", 0x1000, len(elements) // 4) + elements + b"opus"
    assert read_audio_level(packet, 5) == 0x80 | 42
    assert read_audio_level(packet, 7) == 0xAA
    assert read_audio_level(packet, 9) == NO_LEVEL


@pytest.mark.parametrize(
    "extension",
    [
        struct.pack("!HH", 0xBEDE, 2) + bytes([0x10]),  # length says 8 bytes, 1 present
        struct.pack("!HH", 0xBEDE, 1) + bytes([0xF0, 0, 0, 0]),  # id 15: stop
        struct.pack("!HH", 0xBEDE, 1) + bytes([0x00, 0x00, 0x00, 0x20]),  # element cut by the block end
        struct.pack("!HH", 0x1234, 1) + bytes([0x21, 0x55, 0, 0]),  # unknown profile
    ],
)
def test_malformed_or_foreign_blocks_read_as_no_level(extension: bytes) -> None:
    packet = struct.pack("!BBHII", 0x90, 111, 1, 2, 3) + extension
    assert read_audio_level(packet, 2) == NO_LEVEL
