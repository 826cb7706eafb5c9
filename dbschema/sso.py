"""Single sign-on (api/sso): identities at OpenID providers, sign-ins under way, and the one-time tickets that
hand a finished sign-in to the browser page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.models import Base, UTCDateTime, utcnow


class UserIdentity(Base):
    """An account's identity at an OpenID provider. ``(issuer, subject)`` is the key OIDC Core section 5.7 says
    to use: unique across all accounts, so one identity never signs in to two of them."""

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    """The configured provider's name (``API_OIDC_PROVIDERS``) at the time of linking."""
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    """The address the provider gave at the last sign-in (informational: never used to find the account)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SsoAttempt(Base):
    """A sign-in sent to a provider and not back yet. Found by the SHA-256 of its ``state``, deleted when the
    browser comes back (so a state, and with it a code, works once), refused after ``expires_at``."""

    __tablename__ = "sso_attempts"
    state_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    browser_digest: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the random cookie set on the browser that started: the callback must come from the same one."""
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SsoTicket(Base):
    """A finished sign-in waiting for the page to trade it for tokens (GraphQL ``redeemSsoTicket``): single use,
    short-lived; only the SHA-256 of the ticket is stored."""

    __tablename__ = "sso_tickets"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class MeetingSsoRequirement(Base):
    """A meeting only people signed in through the owner's identity provider may join (docs/sso.md)."""

    __tablename__ = "meeting_sso_requirements"
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    """The configured provider's name (``API_OIDC_PROVIDERS``): joiners need an identity there."""
