"""The SQL of single sign-on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dbschema.models import User
from dbschema.sso import SsoAttempt, SsoTicket, UserIdentity


async def take_attempt(session: AsyncSession, state_digest: str, now: datetime) -> SsoAttempt | None:
    """Delete the attempt and return it: one statement, so of two callbacks with one state only one gets it."""
    row = (
        await session.execute(
            delete(SsoAttempt)
            .where(SsoAttempt.state_digest == state_digest)
            .returning(
                SsoAttempt.provider,
                SsoAttempt.nonce,
                SsoAttempt.code_verifier,
                SsoAttempt.browser_digest,
                SsoAttempt.expires_at,
            )
        )
    ).one_or_none()
    if row is None or row.expires_at <= now:
        return None
    return SsoAttempt(
        state_digest=state_digest,
        provider=row.provider,
        nonce=row.nonce,
        code_verifier=row.code_verifier,
        browser_digest=row.browser_digest,
        expires_at=row.expires_at,
    )


async def take_ticket(session: AsyncSession, digest: str, now: datetime) -> str | None:
    row = (
        await session.execute(
            delete(SsoTicket).where(SsoTicket.digest == digest).returning(SsoTicket.user_id, SsoTicket.expires_at)
        )
    ).one_or_none()
    return row.user_id if row is not None and row.expires_at > now else None


async def prune(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(SsoAttempt).where(SsoAttempt.expires_at <= now))
    await session.execute(delete(SsoTicket).where(SsoTicket.expires_at <= now))


async def identity(session: AsyncSession, issuer: str, subject: str) -> UserIdentity | None:
    return (
        await session.execute(
            select(UserIdentity).where(UserIdentity.issuer == issuer, UserIdentity.subject == subject)
        )
    ).scalar_one_or_none()


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()


async def identities_of(session: AsyncSession, user_id: str) -> list[UserIdentity]:
    return list((await session.execute(select(UserIdentity).where(UserIdentity.user_id == user_id))).scalars().all())
