"""The documents this process holds: loading, the peers' outboxes, batched storage and the fan-out between
processes. The WebSocket adapter (``http.py``) only moves bytes between a socket and this."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from dataclasses import dataclass, field

from pycrdt import merge_updates
from sqlalchemy.exc import IntegrityError

from api.collab import store, wire
from api.collab.fanout import AWARENESS, HELLO, LOCK, UPDATE, Fanout, Key, LocalFanout, RedisFanout
from api.collab.hub import AWARENESS_TICK_S, Authorship, Document, Effects, Peer
from api.collab.lock import Lock as DocumentLock
from api.collab.recorded_marks import MarkRecorder, is_marks_document, marks_of
from api.collab.wire import WireError
from api.services import Services
from protocol.events import EventType

log = logging.getLogger("meetmesh.collab")

ANTI_ENTROPY_S = 5.0
"""How often processes compare their open documents (``compare_notes``)."""

OUTBOX = 2048
"""Messages queued for one peer before it counts as too slow and is disconnected (it reconnects and resyncs:
Yjs makes that lossless, whereas waiting for it would hold up everyone else)."""


@dataclass(slots=True)
class Outbox:
    queue: asyncio.Queue[bytes | str] = field(default_factory=lambda: asyncio.Queue(OUTBOX))
    """Binary y-protocols messages, and text control frames (``{"type": "locked", …}``)."""
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)

    def put(self, data: bytes | str) -> None:
        if self.overflowed.is_set():
            return
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.overflowed.set()

    async def next_batch(self) -> list[bytes | str]:
        """What to send next: everything queued, with runs of document updates merged into one update (Yjs
        updates merge losslessly), so a peer that falls behind under a burst catches up in a few frames."""
        first = await self.queue.get()
        items = [first]
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        if len(items) == 1:
            return items
        out: list[bytes | str] = []
        run: list[bytes] = []
        for data in items:
            if isinstance(data, bytes) and data[:2] == _UPDATE_PREFIX:
                run.append(wire.decode(data).payload)
                continue
            if run:
                out.append(_merged(run))
                run = []
            out.append(data)
        if run:
            out.append(_merged(run))
        return out


_UPDATE_PREFIX = bytes((wire.Kind.SYNC, wire.Step.UPDATE))


def _merged(updates: list[bytes]) -> bytes:
    return wire.sync(wire.Step.UPDATE, updates[0] if len(updates) == 1 else merge_updates(*updates))


@dataclass(slots=True)
class _Held:
    doc: Document
    outboxes: dict[int, Outbox] = field(default_factory=dict)
    stored: int = 0
    """Update batches stored since the last compaction (decides when to compact)."""
    opening: int = 0
    """Peers between loading and attaching: the document must not be let go meanwhile."""
    awareness_tick: bool = False
    """A tick is scheduled to send the awareness waiting in ``doc`` (a large audience)."""


class CollabService:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        s = svc.settings
        self.fanout: Fanout = RedisFanout(s.redis_url, s.redis_prefix) if s.redis_url else LocalFanout()
        self.held: dict[Key, _Held] = {}
        self._loading: dict[Key, asyncio.Lock] = {}
        self._ids = itertools.count(1)
        self._flush_lock = asyncio.Lock()
        self._wakers: dict[tuple[str, str], set[asyncio.Event]] = {}
        self._watching: dict[str, tuple[asyncio.Task[None], int]] = {}
        self.marks = MarkRecorder(svc)
        """Marks drawn over screen shares, into the recordings capturing them (api/collab/recorded_marks.py)."""

    def new_peer_id(self) -> int:
        return next(self._ids)

    # -- peers --------------------------------------------------------------------------------------------
    async def attach(self, key: Key, peer: Peer, outbox: Outbox) -> Document:
        held = await self._open(key)
        held.outboxes[peer.id] = outbox
        held.opening = max(0, held.opening - 1)
        for data in held.doc.join(peer):
            outbox.put(data)
        return held.doc

    async def detach(self, key: Key, peer_id: int) -> None:
        held = self.held.get(key)
        if held is None:
            return
        held.outboxes.pop(peer_id, None)
        await self._deliver(key, held, held.doc.leave(peer_id), sender=None)
        # The document stays in memory until the flusher has stored its pending edits (see ``flush``).

    async def receive(self, key: Key, peer_id: int, data: bytes) -> Effects:
        held = self.held[key]
        marks = is_marks_document(key[1])
        before = marks_of(held.doc.doc) if marks else None
        fx = held.doc.receive(peer_id, data)
        await self._deliver(key, held, fx, sender=peer_id)
        if before is not None and fx.publish_update is not None:
            await self.marks.changed(key[0], key[1], before, marks_of(held.doc.doc))
        return fx

    async def _deliver(self, key: Key, held: _Held, fx: Effects, sender: int | None) -> None:
        if sender is not None:
            own = held.outboxes.get(sender)
            for data in fx.reply:
                if own is not None:
                    own.put(data)
        if fx.broadcast:
            for pid, box in held.outboxes.items():
                if pid != sender:
                    for data in fx.broadcast:
                        box.put(data)
        if fx.awareness_due and not held.awareness_tick:
            held.awareness_tick = True
            asyncio.get_running_loop().call_later(AWARENESS_TICK_S, self._awareness_tick, key)
        if fx.publish_update is not None:
            await self.fanout.publish(key, UPDATE, fx.publish_update)
        if fx.publish_awareness is not None:
            await self.fanout.publish(key, AWARENESS, fx.publish_awareness)

    def _awareness_tick(self, key: Key) -> None:
        held = self.held.get(key)
        if held is None:
            return
        held.awareness_tick = False
        data = held.doc.take_awareness()
        if data is not None:
            for box in held.outboxes.values():
                box.put(data)  # the same bytes to everyone: encoded once

    # -- loading and the other processes ----------------------------------------------------------------------
    async def _open(self, key: Key) -> _Held:
        held = self.held.get(key)
        if held is not None:
            held.opening += 1
            return held
        lock = self._loading.setdefault(key, asyncio.Lock())
        async with lock:
            held = self.held.get(key)
            if held is not None:
                held.opening += 1
                return held
            doc = Document(key)
            # Subscribe before loading: nothing published meanwhile is missed (applying twice is harmless).
            await self.fanout.join(key, lambda kind, payload: self._remote(key, kind, payload))
            updates, stored, doc.lock = await store.load(self.svc.db, *key)
            for u in updates:
                doc.apply(u)
            held = _Held(doc, stored=stored, opening=1)
            self.held[key] = held
            self._loading.pop(key, None)
            await self.fanout.publish(key, HELLO, doc.doc.get_state())
            return held

    def _remote(self, key: Key, kind: bytes, payload: bytes) -> None:
        held = self.held.get(key)
        if held is None:
            return
        try:
            if kind == UPDATE:
                fx = held.doc.remote_update(payload)
            elif kind == AWARENESS:
                fx = held.doc.remote_awareness(payload)
            elif kind == LOCK:
                self._tell_locked(held, DocumentLock.from_byte(payload))
                return
            elif kind == HELLO:
                # Another process just opened the document: send what it lacks (our peers' unstored edits).
                missing = held.doc.doc.get_update(payload)
                if missing != wire.EMPTY_UPDATE:
                    asyncio.get_running_loop().create_task(self.fanout.publish(key, UPDATE, missing))
                return
            else:
                return
        except WireError:
            log.warning("dropping a malformed fan-out message for %s", key)
            return
        for box in held.outboxes.values():
            for data in fx.broadcast:
                box.put(data)

    # -- the host's lock ---------------------------------------------------------------------------------------
    async def set_lock(self, key: Key, lock: DocumentLock) -> None:
        """Lock a document (for hosts, or hosts and presenters) or unlock it; the caller checked the right."""
        await store.set_locked(self.svc.db, key[0], key[1], lock)
        held = self.held.get(key)
        if held is not None:
            self._tell_locked(held, lock)
        await self.fanout.publish(key, LOCK, lock.to_byte())

    @staticmethod
    def _tell_locked(held: _Held, lock: DocumentLock) -> None:
        held.doc.lock = lock
        notice = json.dumps(lock.notice())
        for box in held.outboxes.values():
            box.put(notice)

    # -- storage ----------------------------------------------------------------------------------------------
    async def flush(self) -> None:
        """Store every document's pending edits in one statement, compact the documents that need it and let go
        of documents nobody has open any more."""
        async with self._flush_lock:
            batch: list[tuple[str, str, bytes]] = []
            authors: dict[Key, dict[str, Authorship]] = {}
            for key, held in list(self.held.items()):
                pending = held.doc.take_pending()
                if pending:
                    batch.append((key[0], key[1], pending[0] if len(pending) == 1 else merge_updates(*pending)))
                    authors[key] = held.doc.take_authors()
                    held.stored += 1
            changes = [(k[0], k[1], pid, a.updates, a.bytes) for k, by in authors.items() for pid, a in by.items()]
            try:
                await store.append(self.svc.db, batch, changes)
            except IntegrityError:
                # The meeting was deleted (its documents go with it): nothing left to store these edits for.
                log.info("collab: %d document batch(es) dropped with their meeting", len(batch))
            except BaseException:
                for meeting_id, name, body in batch:  # kept for the next flush
                    held_now = self.held.get((meeting_id, name))
                    if held_now is not None:
                        held_now.doc.pending.insert(0, body)
                        for who, a in authors.get((meeting_id, name), {}).items():
                            held_now.doc.authors.setdefault(who, Authorship()).merge(a)
                raise
            for key, held in list(self.held.items()):
                if held.stored >= self.svc.settings.collab_compact_after:
                    held.stored = 0
                    try:
                        await store.compact(self.svc.db, *key)
                    except IntegrityError:
                        pass  # another process created the snapshot at the same moment: it folded these
                if not held.outboxes and not held.doc.pending and not held.opening:
                    del self.held[key]
                    await self.fanout.leave(key)

    async def compare_notes(self) -> None:
        """Every process says what it holds of each open document (its state vector); the others answer with what
        it lacks. Redis pub/sub drops messages on a reconnect or a slow reader: this repairs that within
        ``ANTI_ENTROPY_S`` instead of at the next client reconnect."""
        if isinstance(self.fanout, LocalFanout):
            return
        for key, held in list(self.held.items()):
            await self.fanout.publish(key, HELLO, held.doc.doc.get_state())

    async def run_flusher(self) -> None:
        every = self.svc.settings.collab_flush_ms / 1000
        last_compare = time.monotonic()
        while True:
            await asyncio.sleep(every)
            try:
                if time.monotonic() - last_compare >= ANTI_ENTROPY_S:
                    last_compare = time.monotonic()
                    await self.compare_notes()
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("storing shared documents failed; retrying at the next flush")

    # -- access changes ---------------------------------------------------------------------------------------
    def watch_access(self, meeting_id: str, participant_id: str | None) -> asyncio.Event:
        """An event set when what this participant may do in the meeting may have changed - an event about them
        (started or stopped sharing, role, room, removal) or the meeting ending - so the connection decides its
        access again at once rather than at its next periodic check (api/collab/http.py). One bus subscription
        per meeting with open connections, on every API process."""
        woken = asyncio.Event()
        self._wakers.setdefault((meeting_id, participant_id or ""), set()).add(woken)
        task, count = self._watching.get(meeting_id, (None, 0))
        if task is None:
            task = asyncio.get_running_loop().create_task(self._watch(meeting_id), name=f"collab-access-{meeting_id}")
        self._watching[meeting_id] = (task, count + 1)
        return woken

    def unwatch_access(self, meeting_id: str, participant_id: str | None, woken: asyncio.Event) -> None:
        key = (meeting_id, participant_id or "")
        self._wakers.get(key, set()).discard(woken)
        if not self._wakers.get(key):
            self._wakers.pop(key, None)
        task, count = self._watching.get(meeting_id, (None, 0))
        if task is not None and count <= 1:
            task.cancel()
            self._watching.pop(meeting_id, None)
        elif task is not None:
            self._watching[meeting_id] = (task, count - 1)

    async def _watch(self, meeting_id: str) -> None:
        with await self.svc.bus.subscribe(meeting_id) as events:
            async for event in events:
                if event.type is EventType.MEETING_ENDED:
                    keys = [k for k in self._wakers if k[0] == meeting_id]
                elif event.subject_id is not None:
                    keys = [(meeting_id, event.subject_id)]
                else:
                    continue
                for key in keys:
                    for woken in self._wakers.get(key, ()):
                        woken.set()

    async def close(self) -> None:
        """On a graceful stop: store what is pending."""
        with contextlib.suppress(Exception):
            await self.flush()
        for task, _count in self._watching.values():
            task.cancel()
        await self.fanout.close()
