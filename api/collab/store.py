"""The only SQL of api/collab: append update batches, load a document, fold updates into its snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pycrdt import Doc
from sqlalchemy import delete, func, insert, select

from api.collab.lock import UNLOCKED, Lock
from api.db import Database
from dbschema.collab import CollabChange, CollabDocument, CollabUpdate
from dbschema.models import Participant, utcnow


async def append(
    db: Database,
    batch: Sequence[tuple[str, str, bytes]],
    changes: Sequence[tuple[str, str, str, int, int]] = (),
) -> None:
    """One INSERT (executemany) in one transaction for every document's pending edits, and one for who sent them
    (meeting id, document, participant id, updates, bytes): both stored or neither."""
    if not batch:
        return
    now = utcnow()
    rows = [{"meeting_id": m, "name": n, "body": body, "at": now} for m, n, body in batch]
    async with db.write() as tx:
        await tx.session.execute(insert(CollabUpdate), rows)
        if changes:
            who = [
                {"meeting_id": m, "name": n, "participant_id": p, "updates": u, "bytes": b, "at": now}
                for m, n, p, u, b in changes
            ]
            await tx.session.execute(insert(CollabChange), who)


async def history(db: Database, meeting_id: str, name: str, limit: int) -> list[tuple[CollabChange, str]]:
    """The document's recorded changes, newest first, at most ``limit``, each with its author's name now (a
    deleted account's participation reads "deleted user", api/privacy)."""
    async with db.read() as session:
        rows = await session.execute(
            select(CollabChange, Participant.display_name)
            .join(Participant, Participant.id == CollabChange.participant_id)
            .where(CollabChange.meeting_id == meeting_id, CollabChange.name == name)
            .order_by(CollabChange.id.desc())
            .limit(limit)
        )
        return [(change, str(display_name)) for change, display_name in rows]


async def load(db: Database, meeting_id: str, name: str) -> tuple[list[bytes], int, Lock]:
    """The document's snapshot and the updates after it (apply in order), how many updates those are, and who
    may change it (a host's lock)."""
    async with db.read() as session:
        row = (
            await session.execute(
                select(CollabDocument.snapshot, CollabDocument.locked, CollabDocument.presenters).where(
                    CollabDocument.meeting_id == meeting_id, CollabDocument.name == name
                )
            )
        ).first()
        snap, lock = (row[0], Lock(bool(row[1]), bool(row[2]))) if row is not None else (None, UNLOCKED)
        bodies = (
            await session.scalars(
                select(CollabUpdate.body)
                .where(CollabUpdate.meeting_id == meeting_id, CollabUpdate.name == name)
                .order_by(CollabUpdate.id)
            )
        ).all()
    return ([snap] if snap else []) + list(bodies), len(bodies), lock


async def count(db: Database, meeting_id: str, name: str) -> int:
    async with db.read() as session:
        n = await session.scalar(
            select(func.count()).where(CollabUpdate.meeting_id == meeting_id, CollabUpdate.name == name)
        )
    return int(n or 0)


async def compact(db: Database, meeting_id: str, name: str) -> int:
    """Fold the document's updates into its snapshot; returns how many were folded. The snapshot row is locked
    (PostgreSQL; SQLite writers are serialised) and re-read inside the transaction, so two processes compacting at
    once cannot drop each other's updates."""
    async with db.write() as tx:
        s = tx.session
        row = await s.scalar(
            select(CollabDocument)
            .where(CollabDocument.meeting_id == meeting_id, CollabDocument.name == name)
            .with_for_update()
        )
        found = (
            await s.execute(
                select(CollabUpdate.id, CollabUpdate.body)
                .where(CollabUpdate.meeting_id == meeting_id, CollabUpdate.name == name)
                .order_by(CollabUpdate.id)
            )
        ).all()
        if not found:
            return 0
        doc: Doc[Any] = Doc()
        if row is not None:
            doc.apply_update(row.snapshot)
        for _, body in found:
            doc.apply_update(body)
        # Re-encoding a whole document drops deleted content (Yjs garbage collection), unlike merging updates.
        snapshot, top = doc.get_update(), found[-1][0]
        if row is None:
            s.add(CollabDocument(meeting_id=meeting_id, name=name, snapshot=snapshot, folded_id=top))
        else:
            row.snapshot, row.folded_id = snapshot, top
        await s.execute(
            delete(CollabUpdate).where(
                CollabUpdate.meeting_id == meeting_id, CollabUpdate.name == name, CollabUpdate.id <= top
            )
        )
    return len(found)


async def set_locked(db: Database, meeting_id: str, name: str, lock: Lock) -> None:
    async with db.write() as tx:
        row = await tx.session.scalar(
            select(CollabDocument)
            .where(CollabDocument.meeting_id == meeting_id, CollabDocument.name == name)
            .with_for_update()
        )
        if row is None:
            tx.session.add(
                CollabDocument(
                    meeting_id=meeting_id,
                    name=name,
                    snapshot=b"\x00\x00",
                    folded_id=0,
                    locked=lock.locked,
                    presenters=lock.presenters,
                )
            )
        else:
            row.locked, row.presenters = lock.locked, lock.presenters
