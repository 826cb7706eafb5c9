"""Live captions, the edge's half: forwarded Opus packets of each audio track go to one captioning process.

The edge decodes nothing (``workers.live_captions`` decodes, segments and transcribes in a process of its own,
so Whisper never holds the edge's GIL). A :class:`CaptionTap` sits on a published audio track like the
recording tap does; it sees only what is forwarded, so a muted participant is never captioned. Packets go over
in batches of ``BATCH`` (200 ms) through a bounded queue: when the captioner falls behind, batches are dropped
and counted rather than queued without end. Lines come back through :attr:`Captioner.on_caption`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import queue
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sfu.forwarder import RtpFormatError, payload_offset
from workers import live_captions

log = logging.getLogger("meetmesh.edge.captions")

BATCH = 10
"""Opus packets per hand-over (20 ms each)."""
QUEUE_BATCHES = 500
"""About 100 s of audio of one speaker, or 10 s each of ten: beyond that the captioner is not keeping up."""

CaptionSink = Callable[[str, str, float, float, float, str], Awaitable[None]]
"""(track key, text, start s, end s, heard at (monotonic), ISO 639-1 language the line was decoded in)."""
"""(track key, text, start_s, end_s, heard_at) → deliver it."""


class CaptionTap:
    """One audio track's packets, batched for the captioner."""

    __slots__ = ("_batch", "_captioner", "key")

    def __init__(self, captioner: Captioner, key: str) -> None:
        self._captioner = captioner
        self.key = key
        self._batch: list[bytes] = []

    def on_rtp(self, packet: bytes) -> None:
        try:
            start = payload_offset(packet)
        except RtpFormatError:
            return
        payload = packet[start:]
        if packet[0] & 0x20 and payload:  # RFC 3550 padding: the last octet counts it
            payload = payload[: len(payload) - payload[-1]]
        if not payload:
            return
        self._batch.append(payload)
        if len(self._batch) >= BATCH:
            self._captioner.feed(self.key, self._batch)
            self._batch = []


class Captioner:
    """The captioning process and its two queues."""

    def __init__(self, on_caption: CaptionSink, model_path: str = "", threads: int = 1, language: str = "") -> None:
        """`language`: ISO 639-1 code to caption in; empty: English with the bundled English-only model, the
        detected language of each utterance with a multilingual one."""
        self.on_caption = on_caption
        context = multiprocessing.get_context("spawn")  # no fork of an event loop and its sockets
        self._inbox: Any = context.Queue(maxsize=QUEUE_BATCHES)
        self._outbox: Any = context.Queue()
        self._process = context.Process(
            target=live_captions.run,
            args=(self._inbox, self._outbox, model_path, threads, language),
            name="meetmesh-captioner",
            daemon=True,
        )
        self._reader: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.dropped_batches = 0
        self.captions = 0
        self.error: str | None = None

    def start(self) -> None:
        self._process.start()
        self._reader = asyncio.create_task(self._read(), name="captioner-reader")

    def tap(self, key: str) -> CaptionTap:
        return CaptionTap(self, key)

    def feed(self, key: str, payloads: list[bytes]) -> None:
        try:
            self._inbox.put_nowait(("packets", key, payloads, time.monotonic()))
        except queue.Full:
            self.dropped_batches += 1
            if self.dropped_batches == 1 or self.dropped_batches % 100 == 0:
                log.warning("captioner is behind: %d batches of audio dropped", self.dropped_batches)

    async def _read(self) -> None:
        while True:
            item = await asyncio.to_thread(self._outbox.get)
            kind = item[0]
            if kind == "closed":
                return
            if kind == "ready":
                self.ready.set()
            elif kind == "error":
                self.error = str(item[1])
                log.error("live captions are off: %s", self.error)
            elif kind == "caption":
                _, key, text, start_s, end_s, heard_at, language = item
                self.captions += 1
                try:
                    await self.on_caption(key, text, start_s, end_s, heard_at, language)
                except Exception:
                    # The reader's boundary: one undeliverable line must not end captions for everyone.
                    log.exception("delivering a caption failed")

    async def close(self) -> None:
        with contextlib.suppress(queue.Full, ValueError, OSError):
            self._inbox.put_nowait(("stop",))
        if self._process.is_alive():
            await asyncio.to_thread(self._process.join, 5)
        if self._process.is_alive():
            self._process.kill()
        self._outbox.put(("closed",))  # wakes the reader thread
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
