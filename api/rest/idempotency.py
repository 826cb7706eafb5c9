"""``Idempotency-Key`` on creates (draft-ietf-httpapi-idempotency-key-header): a retried POST with the same key
and the same body gets the first answer again instead of making a second meeting.

The key is claimed by inserting a row *before* the create runs (the primary key makes the claim atomic across
processes), so two parallel requests with one key cannot both create: the second is told CONFLICT while the first
runs (draft section 2.7: 409). The same key with another body is refused (CONFLICT; the draft suggests 422, we
keep GraphQL's codes and statuses). A create that fails releases its claim, so the client may retry it. Answers
are kept for a day; older rows are pruned whenever a new key is claimed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import msgspec
from litestar import Response
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from api.errors import BadInputError, ConflictError
from api.services import Services
from dbschema.apikeys import IdempotentRequest
from dbschema.models import utcnow

KEPT = timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
"""Visible ASCII, as a structured-field string of sensible length (the draft makes it an sf-string)."""


def fingerprint(body: object) -> str:
    return hashlib.sha256(msgspec.json.encode(body, order="sorted")).hexdigest()


async def _claim(svc: Services, owner: str, key: str, print_: str) -> IdempotentRequest | None:
    """Claim ``key``; None when claimed now, else the row already there."""
    try:
        async with svc.db.write() as tx:
            await tx.session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < utcnow() - KEPT))
            tx.session.add(IdempotentRequest(owner=owner, key=key, fingerprint=print_, created_at=utcnow()))
        return None
    except IntegrityError:
        async with svc.db.read() as session:
            found = (
                await session.execute(
                    select(IdempotentRequest).where(IdempotentRequest.owner == owner, IdempotentRequest.key == key)
                )
            ).scalar_one_or_none()
        if found is None:  # released meanwhile by a failed first attempt: the client may simply retry
            raise ConflictError("a request with this Idempotency-Key just failed; retry it") from None
        return found


async def _forget(svc: Services, owner: str, key: str) -> None:
    async with svc.db.write() as tx:
        await tx.session.execute(
            delete(IdempotentRequest).where(IdempotentRequest.owner == owner, IdempotentRequest.key == key)
        )


async def once(
    svc: Services,
    owner: str,
    key: str | None,
    body: object,
    create: Callable[[], Awaitable[tuple[int, Any]]],
) -> Response[Any]:
    """Run ``create`` (returning status and a wire object) at most once per ``key``; without a key, just run it."""
    if key is None:
        status, out = await create()
        return Response(out, status_code=status)
    if not _KEY.fullmatch(key):
        raise BadInputError("Idempotency-Key", "Idempotency-Key must be 1..255 visible ASCII characters")
    print_ = fingerprint(body)
    found = await _claim(svc, owner, key, print_)
    if found is not None:
        if found.fingerprint != print_:
            raise ConflictError("this Idempotency-Key was used with another request body; use a new key")
        if found.status_code is None:
            raise ConflictError("a request with this Idempotency-Key is still in progress; retry later")
        return Response(found.body, status_code=found.status_code, headers={"idempotent-replayed": "true"})
    try:
        status, out = await create()
    except BaseException:  # a domain error or anything else: the key is free again for a corrected retry
        await _forget(svc, owner, key)
        raise
    stored = msgspec.to_builtins(out)
    async with svc.db.write() as tx:
        row = await tx.session.get(IdempotentRequest, (owner, key))
        if row is not None:
            row.status_code, row.body = status, stored
    return Response(stored, status_code=status)
