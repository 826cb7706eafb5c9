"""Outgoing webhooks: the event names accounts subscribe to, Standard Webhooks signing, the address policy and
the shape of one HTTP attempt, shared by the API (which owns the outbox) and the worker job that sends.

Signing follows the Standard Webhooks spec (https://www.standardwebhooks.com, "Signature scheme"): the signed
content is ``{webhook-id}.{webhook-timestamp}.{body}``, HMAC-SHA256 with the base64-decoded part of a
``whsec_…`` secret, sent as ``webhook-signature: v1,<base64>``; several signatures are separated by spaces, which
is how a rotated secret overlaps its successor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from enum import StrEnum


class WebhookEvent(StrEnum):
    MEETING_CREATED = "meeting.created"
    MEETING_STARTED = "meeting.started"
    MEETING_ENDED = "meeting.ended"
    PARTICIPANT_JOINED = "participant.joined"
    PARTICIPANT_LEFT = "participant.left"
    PARTICIPANT_WAITING = "participant.waiting"
    RECORDING_STARTED = "recording.started"
    RECORDING_STOPPED = "recording.stopped"
    RECORDING_READY = "recording.ready"
    RECORDING_FAILED = "recording.failed"
    TRANSCRIPT_READY = "transcript.ready"
    CHAT_MESSAGE = "chat.message"
    """Opt-in: sent only to endpoints that list it (meeting chat leaves the server only when asked for)."""
    POLL_ENDED = "poll.ended"
    BREAKOUT_ROOMS_OPENED = "breakout_rooms.opened"
    BREAKOUT_ROOMS_CLOSED = "breakout_rooms.closed"
    ENDPOINT_DISABLED = "endpoint.disabled"
    """Another endpoint of the same account was disabled after failing for the whole retry schedule."""
    ENDPOINT_VERIFICATION = "endpoint.verification"
    """The challenge sent when an endpoint is added: it must answer 2xx with ``{"challenge": <the same>}``."""


OPT_IN: frozenset[WebhookEvent] = frozenset({WebhookEvent.CHAT_MESSAGE})
SUBSCRIBABLE: tuple[WebhookEvent, ...] = tuple(e for e in WebhookEvent if e is not WebhookEvent.ENDPOINT_VERIFICATION)

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"


def new_secret() -> str:
    """A ``whsec_`` secret of 24 random bytes (the spec asks for 24 to 64)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """One ``v1,<base64>`` signature of ``body`` under ``secret``."""
    content = f"{msg_id}.{timestamp}.{body}".encode()
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def headers(secrets_: tuple[str, ...], msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers, one signature per live secret (current first)."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets_),
    }


# -- where requests may go ------------------------------------------------------------------------------------


def parse_networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The allow-list setting (addresses or CIDR networks); a typo raises ValueError naming the entry."""
    out = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {entry!r}") from None
    return tuple(out)


def refused_address(address: str, allowed: tuple[str, ...]) -> str | None:
    """Why a webhook may not connect to ``address`` (an IP literal), or None when it may.

    Loopback, private (RFC 1918, RFC 4193), link-local (RFC 3927: cloud metadata services live at 169.254.169.254),
    shared (RFC 6598), multicast, reserved and unspecified addresses reach the server's own network, not the
    account's; only the operator's allow-list opens them."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(ip in net for net in parse_networks(allowed)):
        return None
    if ip.is_loopback:
        return f"{ip} is a loopback address"
    if ip.is_link_local:
        return f"{ip} is a link-local address"
    if ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified or not ip.is_global:
        return f"{ip} is not a public address"
    return None


# -- one attempt, as the API asks the sending job for it -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendRequest:
    url: str
    headers: dict[str, str]
    body: str
    allowed_networks: tuple[str, ...] = ()
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    """For the whole response (status line, headers and the bounded body)."""
    max_response_bytes: int = 4096

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "headers": self.headers,
            "body": self.body,
            "allowed_networks": list(self.allowed_networks),
            "connect_timeout_s": self.connect_timeout_s,
            "read_timeout_s": self.read_timeout_s,
            "max_response_bytes": self.max_response_bytes,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> SendRequest:
        return cls(
            url=str(d["url"]),
            headers={str(k): str(v) for k, v in dict(d["headers"]).items()},  # type: ignore[call-overload]
            body=str(d["body"]),
            allowed_networks=tuple(str(n) for n in d.get("allowed_networks") or ()),  # type: ignore[attr-defined]
            connect_timeout_s=float(d.get("connect_timeout_s", 5.0)),  # type: ignore[arg-type]
            read_timeout_s=float(d.get("read_timeout_s", 10.0)),  # type: ignore[arg-type]
            max_response_bytes=int(d.get("max_response_bytes", 4096)),  # type: ignore[call-overload]
        )


@dataclass(frozen=True, slots=True)
class SendResult:
    status_code: int | None
    """None when no response came (refused address, connection error, timeout)."""
    latency_ms: float
    error: str | None = None
    body: str = field(default="")
    """The start of the response body (at most ``max_response_bytes``), for the delivery log and challenges."""

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300

    def to_dict(self) -> dict[str, object]:
        return {"status_code": self.status_code, "latency_ms": self.latency_ms, "error": self.error, "body": self.body}

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> SendResult:
        code = d.get("status_code")
        return cls(
            status_code=int(code) if code is not None else None,  # type: ignore[call-overload]
            latency_ms=float(d["latency_ms"]),  # type: ignore[arg-type]
            error=str(d["error"]) if d.get("error") is not None else None,
            body=str(d.get("body") or ""),
        )


DEFAULT_RETRY_SCHEDULE_S: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
"""Waits before each retry (Standard Webhooks' suggested schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h): the
last attempt is ~27.6 hours after the first, so an endpoint down for a day still gets everything."""
