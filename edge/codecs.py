"""Codec negotiation shared by edge sessions and synthetic participants."""

from __future__ import annotations

from aiortc import RTCRtpSender, RTCRtpTransceiver


def prefer_codec(transceiver: RTCRtpTransceiver, mime_type: str) -> None:
    """Negotiate one codec only: the forwarder passes payloads through, so both sides must agree on it."""
    kind = mime_type.split("/")[0]
    codecs = [c for c in RTCRtpSender.getCapabilities(kind).codecs if c.mimeType.lower() == mime_type.lower()]
    if not codecs:
        raise ValueError(f"aiortc cannot negotiate {mime_type}")
    transceiver.setCodecPreferences(codecs)
