"""Media test helpers shared by the edge tests: a spy on aiortc's codec factories (to prove the edge neither
decodes nor encodes) and a paced tone track (to give audio a level)."""

from __future__ import annotations

import array
import math
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
from aiortc import AudioStreamTrack, RTCRtpReceiver, RTCRtpSender
from av import AudioFrame


@dataclass
class CodecSpy:
    """Which receivers created a decoder, which senders an encoder (real aiortc functions, wrapped)."""

    decoder_queues: list[object] = field(default_factory=list)
    decoder_threads: list[threading.Thread] = field(default_factory=list)
    encoder_senders: list[object] = field(default_factory=list)

    def decoders_for(self, receiver: RTCRtpReceiver) -> int:
        queue = receiver.track._queue  # type: ignore[attr-defined]
        return sum(1 for q in self.decoder_queues if q is queue)

    def encoders_for(self, sender: RTCRtpSender) -> int:
        return sum(1 for s in self.encoder_senders if s is sender)


@contextmanager
def spy_on_codecs() -> Iterator[CodecSpy]:
    """Record every decoder and encoder aiortc creates while the block runs (its own functions still do the work)."""
    spy = CodecSpy()
    real_get_decoder = getattr(aiortc.rtcrtpreceiver, "get_decoder")  # noqa: B009 - not re-exported
    real_get_encoder = getattr(aiortc.rtcrtpsender, "get_encoder")  # noqa: B009 - not re-exported

    def get_decoder(codec: Any) -> Any:
        # Called from aiortc's decoder_worker, whose `output_q` is the receiver's track queue.
        spy.decoder_queues.append(sys._getframe(1).f_locals.get("output_q"))
        spy.decoder_threads.append(threading.current_thread())
        return real_get_decoder(codec)

    def get_encoder(codec: Any) -> Any:
        # Called from RTCRtpSender._next_encoded_frame: `self` is the sender.
        spy.encoder_senders.append(sys._getframe(1).f_locals.get("self"))
        return real_get_encoder(codec)

    with (
        mock.patch.object(aiortc.rtcrtpreceiver, "get_decoder", get_decoder),
        mock.patch.object(aiortc.rtcrtpsender, "get_encoder", get_encoder),
    ):
        yield spy


class ToneTrack(AudioStreamTrack):
    """aiortc's paced 20 ms audio track with a sine tone instead of silence: the publisher encodes it and, as
    every aiortc audio sender does, computes its RFC 6464 level into the header extension."""

    def __init__(self, amplitude: float) -> None:
        super().__init__()
        self.amplitude = amplitude
        self._phase = 0

    async def recv(self) -> AudioFrame:
        frame = await super().recv()  # silence, s16 interleaved, paced in real time
        assert isinstance(frame, AudioFrame)
        channels, rate = len(frame.layout.channels), frame.sample_rate
        tone = array.array(
            "h",
            (
                round(self.amplitude * 32767 * math.sin(2 * math.pi * 440 * (self._phase + i // channels) / rate))
                for i in range(frame.samples * channels)
            ),
        ).tobytes()
        self._phase += frame.samples
        plane = frame.planes[0]
        plane.update(tone + bytes(plane.buffer_size - len(tone)))
        return frame
