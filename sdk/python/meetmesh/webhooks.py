"""Receiving meetmesh webhooks: verify a delivery's Standard Webhooks signature and decode it (docs/webhooks.md).

Standard Webhooks (https://www.standardwebhooks.com, "Verifying webhook authenticity"): the signature is
``v1,`` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")) where key is the base64 part of the
``whsec_`` secret; several space-separated signatures may be present while a rotated secret overlaps. Stdlib only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meetmesh.errors import MeetmeshError

TOLERANCE_S = 300
"""Older or newer timestamps are refused (replay protection), as the spec's reference libraries do."""


class WebhookVerificationError(MeetmeshError):
    pass


@dataclass(frozen=True)
class WebhookDelivery:
    id: str
    """``webhook-id``: the same on every retry, redelivery and replay: deduplicate on it."""
    type: str
    """``recording.ready``, ``participant.joined``, ``endpoint.verification``..."""
    timestamp: str
    data: dict[str, Any]

    @property
    def challenge(self) -> str | None:
        """For ``endpoint.verification``: answer 2xx with ``{"challenge": <this>}``."""
        value = self.data.get("challenge")
        return str(value) if value is not None else None

    @property
    def recording_id(self) -> str | None:
        """For ``recording.*`` and ``transcript.ready``."""
        rec = (self.data.get("details") or {}).get("recording") or {}
        value = rec.get("id") or self.data.get("subjectId")
        return str(value) if value else None


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> WebhookDelivery:
    """The decoded delivery if ``body`` carries a valid signature by ``secret``; ``WebhookVerificationError``
    (code ``BAD_SIGNATURE``) otherwise. ``headers``: case-insensitive lookups are done here."""
    h = {k.lower(): v for k, v in headers.items()}
    msg_id, ts, sigs = h.get("webhook-id"), h.get("webhook-timestamp"), h.get("webhook-signature")
    if not msg_id or not ts or not sigs:
        raise WebhookVerificationError("BAD_SIGNATURE", "missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent = int(ts)
    except ValueError:
        raise WebhookVerificationError("BAD_SIGNATURE", "webhook-timestamp is not a number") from None
    if abs((time.time() if now is None else now) - sent) > TOLERANCE_S:
        raise WebhookVerificationError("BAD_SIGNATURE", "webhook-timestamp is too far from now")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    for sig in sigs.split():
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            payload = json.loads(body)
            return WebhookDelivery(msg_id, str(payload["type"]), str(payload["timestamp"]), payload.get("data") or {})
    raise WebhookVerificationError("BAD_SIGNATURE", "no valid signature")
