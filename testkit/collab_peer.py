"""A shared-document client in Python (pycrdt): what a browser tab does with Yjs, for tests and ``bench/collab.py``.

It speaks the same y-protocols messages as ``web/collab/provider.js``: authorization frame, then sync step 1/2,
updates and awareness. Local edits are sent as they happen (``Doc.observe`` gives each transaction's update).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from pycrdt import (
    Awareness,
    Decoder,
    Doc,
    Text,
    TransactionEvent,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


class CollabPeer:
    def __init__(self, base_url: str, meeting_id: str, doc: str, token: str | None) -> None:
        self.url = f"{base_url.replace('http', 'ws', 1)}/collab/{meeting_id}/{doc}"
        self.token = token
        self.doc: Doc[Any] = Doc()
        self.awareness = Awareness(self.doc)
        self.ws: ClientConnection | None = None
        self.ready: dict[str, Any] = {}
        self.control: list[dict[str, Any]] = []
        """Text frames after ``ready`` (access changes)."""
        self.denied: list[str] = []
        """Reasons of the server's permission-denied messages."""
        self.closed: tuple[int, str] | None = None
        self.changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._sub: Any = None
        self._applying = False
        self._sending: set[asyncio.Task[None]] = set()
        self.on_update: Callable[[bytes], None] | None = None
        """Called with each update received from the server (benchmarks time it)."""

    async def __aenter__(self) -> CollabPeer:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        self.closed = None
        self.ws = await connect(self.url, max_size=8 * 1024 * 1024)
        try:
            await self.ws.send(json.dumps({"authorization": f"Bearer {self.token}" if self.token else ""}))
            first = await self.ws.recv()
        except ConnectionClosed as exc:  # refused: the close code and reason say why
            self.closed = (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (1006, "")
            return
        assert isinstance(first, str), first
        self.ready = json.loads(first)
        if self._sub is None:
            self._sub = self.doc.observe(self._local)
        await self.ws.send(create_sync_message(self.doc))
        self._reader = asyncio.create_task(self._read())

    def _local(self, event: TransactionEvent) -> None:
        if self._applying or self.ws is None or self.closed is not None:
            return
        data = create_update_message(event.update)
        task = asyncio.get_running_loop().create_task(self._send(data))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, data: bytes) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.send(data)

    async def send_raw(self, data: bytes) -> None:
        assert self.ws is not None
        await self.ws.send(data)

    async def set_cursor(self, state: dict[str, Any]) -> None:
        self.awareness.set_local_state(state)
        update = self.awareness.encode_awareness_update([self.awareness.client_id])
        await self.send_raw(create_awareness_message(update))

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for message in self.ws:
                if not isinstance(message, bytes):
                    self.control.append(json.loads(message))  # {"type": "access", "writable": …}
                    self.changed.set()
                    continue
                kind = message[0]
                if kind == 0:
                    self._applying = True
                    try:
                        reply = handle_sync_message(message[1:], self.doc)
                    finally:
                        self._applying = False
                    if reply is not None:
                        await self.ws.send(reply)
                    if message[1] in (1, 2) and self.on_update is not None:
                        self.on_update(message)
                elif kind == 1:
                    self.awareness.apply_awareness_update(Decoder(message[1:]).read_message() or b"", "remote")
                elif kind == 2:
                    dec = Decoder(message[2:])
                    self.denied.append(dec.read_var_string())
                self.changed.set()
        except Exception:
            pass
        finally:
            if self.ws.close_code is not None:
                self.closed = (self.ws.close_code, self.ws.close_reason or "")
            self.changed.set()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    def text(self, name: str = "notes") -> Text:
        text: Text = self.doc.get(name, type=Text)
        return text

    async def close(self) -> None:
        if self._sending:  # local edits still on their way: a tab that closes sends what it has first
            await asyncio.gather(*self._sending, return_exceptions=True)
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader
        self.ws = None
