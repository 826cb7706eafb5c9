"""Tables of api/webhooks: an account's endpoints, the outbox of deliveries, and the log of attempts.

A delivery row is written in the same transaction as the change it reports (api/webhooks/outbox.py), so a
committed change always has its deliveries and a rolled-back one never does. The row is then the delivery's
state (pending → delivered | failed) and the attempts table its log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.models import Base, UTCDateTime, utcnow

_POS = BigInteger().with_variant(Integer(), "sqlite")


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Subscribed ``protocol.webhooks.WebhookEvent`` values; empty: every event that is not opt-in."""
    secret: Mapped[str] = mapped_column(String(128))
    previous_secret: Mapped[str | None] = mapped_column(String(128), nullable=True)
    """The secret before the last rotation, still signing (beside the new one) until ``previous_secret_until``."""
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the endpoint answered its challenge; events wait (pending) until then."""
    challenge: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_webhook_endpoints_owner", "owner_id"),)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    """The ``webhook-id`` header: the same on every attempt, redelivery and replay, so receivers can deduplicate."""
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(String(32), default="")
    """Ordering key: deliveries of one endpoint and meeting go one at a time in ``seq`` order ("" for account
    notices, ordered among themselves)."""
    seq: Mapped[int] = mapped_column(BigInteger)
    """The meeting's event sequence number (0: meeting created); for account notices, a time-based counter."""
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    """The exact JSON body sent (and signed)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """pending | delivered | failed (the whole retry schedule failed; redeliver or replay to try again)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Attempts since it was last (re)queued; ``webhook_attempts`` keeps every one."""
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Claimed by a dispatcher until then; a dispatcher that died loses its claim when it runs out."""
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_webhook_deliveries_queue", "endpoint_id", "meeting_id", "status", "seq"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"
    pos: Mapped[int] = mapped_column(_POS, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)

    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "pos"),)


__all__ = ["Base", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint"]
