"""Server-to-server credentials (API keys) and the answers kept for ``Idempotency-Key`` retries (api/rest)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.models import Base, UTCDateTime, utcnow


class ApiKey(Base):
    """One key an account made for a program. The secret is never stored: only its SHA-256 (the secret is 256
    random bits, so a slow hash adds nothing, as for refresh tokens) and the key acts as its owner, narrowed to
    its scopes."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[str] = mapped_column(String(400))
    """Space-separated, as an OAuth 2.0 scope (RFC 6749 section 3.3)."""
    secret_digest: Mapped[str] = mapped_column(String(64))
    rate_per_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IdempotentRequest(Base):
    """A create that carried an ``Idempotency-Key``: the first request's fingerprint and, once it finished, its
    answer, replayed to retries for a day. ``status_code`` is null while the first request still runs."""

    __tablename__ = "api_idempotency"
    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    """Whose key it is (``user:<id>`` or ``key:<id>``): two callers never share a key space."""
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    body: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
