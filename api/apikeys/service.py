"""API keys: create (the secret is shown once), list, revoke, and authenticate a request that presents one.

A key looks like ``mmk1.<id>.<secret>``: the id finds the row (a primary-key read), the secret is compared with
the stored SHA-256 in constant time. Every authenticated request takes one attempt of the key's own rate limit
*before* the handler runs (atomically: the Redis Lua limiter or the event loop), so parallel requests cannot all
slip under it; refused requests answer RATE_LIMITED with Retry-After.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from api import validation
from api.apikeys import scopes as scope_rules
from api.audit import request as audit_request
from api.errors import ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError
from api.security import Principal, UserPrincipal
from api.services import Services
from dbschema.apikeys import ApiKey
from dbschema.models import utcnow
from protocol.ids import new_id

PREFIX = "mmk1."
_TOKEN = re.compile(r"mmk1\.([A-Za-z0-9_-]{16,32})\.([A-Za-z0-9_-]{43})")
MAX_KEYS_PER_USER = 50
DEFAULT_RATE_PER_MINUTE = 600
MAX_RATE_PER_MINUTE = 60_000


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    secret: str
    """The whole token (``mmk1.<id>.<secret>``): returned once, never stored."""


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _owner(principal: Principal | None) -> str:
    # Keys are made by a person signed in, never by another key (a leaked key must not mint more).
    if not isinstance(principal, UserPrincipal):
        raise UnauthenticatedError("log in to manage API keys")
    if principal.key_id is not None:
        raise ForbiddenError("API keys cannot manage API keys; sign in as the account")
    return principal.user_id


async def create(
    svc: Services, principal: Principal | None, *, name: str, scopes: list[str], rate_per_minute: int | None
) -> CreatedKey:
    user_id = _owner(principal)
    name = validation.text("name", name, max_len=100)
    granted = scope_rules.parse(scopes)
    rate = validation.int_range(
        "ratePerMinute", DEFAULT_RATE_PER_MINUTE if rate_per_minute is None else rate_per_minute, 1, MAX_RATE_PER_MINUTE
    )
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        id=new_id(),
        user_id=user_id,
        name=name,
        scopes=" ".join(sorted(granted)),
        secret_digest=_digest(secret),
        rate_per_minute=rate,
        created_at=utcnow(),
    )
    async with svc.db.write() as tx:
        live = await tx.session.execute(
            select(ApiKey.id).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None)).limit(MAX_KEYS_PER_USER)
        )
        if len(live.all()) >= MAX_KEYS_PER_USER:
            raise ConflictError(f"an account may hold at most {MAX_KEYS_PER_USER} live API keys; revoke one first")
        tx.session.add(key)
    return CreatedKey(key, f"{PREFIX}{key.id}.{secret}")


async def list_mine(svc: Services, principal: Principal | None) -> list[ApiKey]:
    user_id = _owner(principal)
    async with svc.db.read() as session:
        rows = await session.execute(
            select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at.desc(), ApiKey.id)
        )
        return list(rows.scalars())


async def revoke(svc: Services, principal: Principal | None, key_id: str) -> ApiKey:
    user_id = _owner(principal)
    async with svc.db.write() as tx:
        key = await tx.session.get(ApiKey, key_id)
        if key is None or key.user_id != user_id:  # someone else's key: as if it did not exist
            raise NotFoundError(f"API key {key_id} does not exist")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
    return key


async def authenticate(svc: Services, token: str) -> UserPrincipal:
    """The principal a key acts as, after taking one attempt of its rate limit. UNAUTHENTICATED for a malformed,
    unknown or revoked key (one message for all: no oracle), RATE_LIMITED (with retryAfter) over its rate."""
    m = _TOKEN.fullmatch(token)
    if m is None:
        raise UnauthenticatedError("invalid API key")
    key_id, secret = m.group(1), m.group(2)
    async with svc.db.read() as session:
        row = (
            await session.execute(
                select(ApiKey.user_id, ApiKey.scopes, ApiKey.secret_digest, ApiKey.rate_per_minute).where(
                    ApiKey.id == key_id, ApiKey.revoked_at.is_(None)
                )
            )
        ).first()
    if row is None or not hmac.compare_digest(row.secret_digest.encode(), _digest(secret).encode()):
        raise UnauthenticatedError("invalid API key")
    await svc.limit("api-key", key_id, limit=row.rate_per_minute, window_s=60.0)
    principal = UserPrincipal(user_id=row.user_id, key_id=key_id, scopes=frozenset(row.scopes.split()))
    audit_request.identify(principal)  # audit rows of this request name the key's account
    return principal
