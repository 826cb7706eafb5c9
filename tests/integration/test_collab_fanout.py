"""api/collab between two in-process services over a real Redis: an update one process never published (as when
pub/sub drops a message) reaches the other through the periodic state-vector comparison."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

from pycrdt import Doc, Text

from api.bus import MemoryBus
from api.collab.hub import Peer
from api.collab.service import CollabService, Outbox
from api.db import Database, make_engine
from api.services import Services
from dbschema import migrate
from tests.conftest import make_settings

REDIS_URL = "redis://127.0.0.1:6379/0"


async def test_a_dropped_update_is_repaired_by_comparing_state_vectors(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, redis_url=REDIS_URL, redis_prefix=f"meetmesh-test-{secrets.token_hex(4)}")
    db = Database(make_engine(settings.sqlalchemy_url), MemoryBus())
    await migrate.upgrade(db.engine)
    a, b = CollabService(Services.build(settings, db, db.bus)), CollabService(Services.build(settings, db, db.bus))
    key = ("no-meeting-row-needed", "notes")
    try:
        box_b = Outbox()
        await a.attach(key, Peer(1, "A", True), Outbox())
        await b.attach(key, Peer(2, "B", True), box_b)
        await asyncio.sleep(0.5)  # B's hello has been answered (with nothing yet)
        lost: Doc[Any] = Doc()
        lost["notes"] = Text("only on A")
        a.held[key].doc.apply(lost.get_update())  # applied on A, never published
        await asyncio.sleep(0.2)
        assert str(b.held[key].doc.doc.get("notes", type=Text)) == ""
        changed = asyncio.Event()
        b.held[key].doc.doc.observe(lambda _event: changed.set())
        await b.compare_notes()
        await asyncio.wait_for(changed.wait(), 5)
        assert str(b.held[key].doc.doc.get("notes", type=Text)) == "only on A"
        # B's peer was sent the repair too.
        assert not box_b.queue.empty()
    finally:
        await a.fanout.close()
        await b.fanout.close()
        for svc in (a, b):
            await svc.svc.rate.close()
            await svc.svc.edges.close()
        await db.dispose()
