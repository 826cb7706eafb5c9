"""Accounts. Passwords are argon2id hashes; refresh tokens rotate on every use, and re-use of a rotated token
revokes the whole family (it means the token leaked)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api import validation
from api.accounts import store
from api.audit import service as audit
from api.db import Database
from api.errors import BadInputError, ConflictError, ForbiddenError, RateLimitedError, UnauthenticatedError
from api.security import Credentials
from api.services import Services
from api.sso.providers import provider_for_email
from dbschema.models import RefreshToken, User, utcnow
from protocol.ids import new_id


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    access_token: str
    refresh_token: str
    expires_in_s: int


# A real hash of a random string, so a log-in for an unknown email costs the same as a wrong password.
_DUMMY_HASH: dict[int, str] = {}


async def _issue(db: Database, creds: Credentials, user: User) -> Session:
    token, digest = creds.new_refresh_token()
    async with db.write() as tx:
        tx.session.add(
            RefreshToken(
                digest=digest,
                user_id=user.id,
                expires_at=utcnow() + timedelta(seconds=creds.settings.refresh_token_ttl_s),
            )
        )
    return Session(user, creds.access_token(user.id), token, creds.settings.access_token_ttl_s)


async def issue_session(db: Database, creds: Credentials, user: User) -> Session:
    """New tokens for a user who proved who they are another way (single sign-on: api/sso)."""
    return await _issue(db, creds, user)


async def sign_up(db: Database, creds: Credentials, *, email: str, password: str, display_name: str) -> Session:
    email = validation.email("email", email)
    display_name = validation.display_name("displayName", display_name)
    provider = provider_for_email(creds.settings.oidc_providers, email)
    if provider is not None:
        # The company's identity provider is authoritative for its domain: a password account made here first
        # could later be linked to the real person's sign-in (a pre-hijack), so there is none to make.
        raise ForbiddenError(
            f"accounts at {email.rsplit('@', 1)[1]} sign in with their company account "
            f"({provider.label or provider.name}): use 'Sign in with your company account'",
            field="email",
        )
    min_len = creds.settings.password_min_length
    if not min_len <= len(password) <= 256:
        raise BadInputError("password", f"password must be {min_len}..256 characters (got {len(password)})")
    async with db.read() as session:
        if await store.user_by_email(session, email) is not None:
            raise ConflictError(f"an account for {email} exists already; log in instead", field="email")
    password_hash = await asyncio.to_thread(creds.hash_secret, password)
    user = User(id=new_id(), email=email, display_name=display_name, password_hash=password_hash)
    try:
        async with db.write() as tx:
            tx.session.add(user)
    except IntegrityError as exc:  # a concurrent sign-up with the same email won the race
        raise ConflictError(f"an account for {email} exists already; log in instead", field="email") from exc
    return await _issue(db, creds, user)


async def log_in(db: Database, creds: Credentials, *, email: str, password: str) -> Session:
    email = email.strip().lower()
    async with db.read() as session:
        user = await store.user_by_email(session, email)
    if user is None:
        key = id(creds)
        if key not in _DUMMY_HASH:
            _DUMMY_HASH[key] = await asyncio.to_thread(creds.hash_secret, new_id())
        await asyncio.to_thread(creds.verify_secret, _DUMMY_HASH[key], password)
    if user is not None and user.password_hash is None:
        # Said plainly, as the task of this page is to get people signed in; the address's domain already tells
        # that it is a single sign-on account (docs/sso.md), so this reveals little more.
        await asyncio.to_thread(creds.verify_secret, None, password)
        await audit.sign_in_failed(db, user)
        raise UnauthenticatedError(
            "this account has no password: it signs in with single sign-on ('Sign in with your company account')"
        )
    if user is None or not await asyncio.to_thread(creds.verify_secret, user.password_hash, password):
        await audit.sign_in_failed(db, user)  # the same write for an unknown email: no timing difference
        raise UnauthenticatedError("wrong email or password")
    await audit.signed_in(db, user)
    return await _issue(db, creds, user)


async def limited_log_in(svc: Services, *, email: str, password: str, client_key: str) -> Session:
    """``log_in`` behind the failed-log-in limits: an attempt is taken per account (the email as typed, known
    or not, so the limit does not tell which accounts exist) and per address *before* the password is checked,
    and both are given back when it is right, so only failures accumulate."""
    account = email.strip().lower()[:320]
    by_account = await svc.reserve("login-account", account, message="too many failed log-ins for this account")
    try:
        by_address = await svc.reserve("login-address", client_key, message="too many failed log-ins from here")
    except RateLimitedError:
        await svc.refund("login-account", account, by_account)
        raise
    session = await log_in(svc.db, svc.creds, email=email, password=password)
    await svc.refund("login-account", account, by_account)
    await svc.refund("login-address", client_key, by_address)
    return session


async def limited_sign_up(svc: Services, *, email: str, password: str, display_name: str, client_key: str) -> Session:
    """``sign_up``, at most so many accounts per address and hour (taken before the password is hashed)."""
    await svc.reserve("signup-address", client_key, message="too many new accounts from here")
    return await sign_up(svc.db, svc.creds, email=email, password=password, display_name=display_name)


async def refresh(db: Database, creds: Credentials, *, refresh_token: str) -> Session:
    digest = creds.refresh_digest(refresh_token)
    now = utcnow()
    token, new_digest = creds.new_refresh_token()
    async with db.write() as tx:
        row = await store.live_refresh_token(tx.session, digest, now)
        if row is None:
            stale = await tx.session.get(RefreshToken, digest)
            if stale is not None and stale.revoked_at is not None:
                await store.revoke_all(tx.session, stale.user_id, now)
        else:
            row.revoked_at = now
            user = await store.user_by_id(tx.session, row.user_id)
            tx.session.add(
                RefreshToken(
                    digest=new_digest,
                    user_id=row.user_id,
                    expires_at=now + timedelta(seconds=creds.settings.refresh_token_ttl_s),
                )
            )
    if row is None or user is None:
        raise UnauthenticatedError("refresh token is invalid, expired or already used; log in again")
    return Session(user, creds.access_token(user.id), token, creds.settings.access_token_ttl_s)


async def log_out(db: Database, creds: Credentials, *, refresh_token: str) -> bool:
    digest = creds.refresh_digest(refresh_token)
    async with db.write() as tx:
        row = (await tx.session.execute(select(RefreshToken).where(RefreshToken.digest == digest))).scalar_one_or_none()
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
    return True


async def get_user(db: Database, user_id: str) -> User:
    async with db.read() as session:
        user = await store.user_by_id(session, user_id)
    if user is None:
        raise UnauthenticatedError("this account no longer exists")
    return user
