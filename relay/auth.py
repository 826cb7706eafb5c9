"""Relay credentials: who may open a relay link.

A relay link carries every meeting the two edges share, so a peer must prove it is an edge of *this*
deployment. The API signs each registered edge a **relay token** with the same Ed25519 key it signs join tokens
with (JWT ``EdDSA``; audience ``meetmesh-relay``, so a participant's join token is never a relay credential and
the other way round). Edges already hold the API's public key; they verify each other's tokens with it and need
no shared secret. Both sides of a link present one (``Hello``), so a client also knows it reached an edge.

The token is not bound to the QUIC connection: whoever holds it can use it until it expires, so it is short
lived (minutes), re-issued over the control feed, and never logged. Certificate pinning (the API publishes each
edge's certificate fingerprint with its relay address) closes the rest; see :class:`RelayPeer`.

Sans-I/O: keys and ``now`` come in as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from protocol.tokens import JOIN_TOKEN_ISSUER as RELAY_TOKEN_ISSUER
from protocol.tokens import RELAY_TOKEN_AUDIENCE

_REQUIRED = ("iss", "aud", "sub", "exp", "iat", "region")


class RelayAuthError(Exception):
    """The peer's relay credential did not verify; the text says why (safe to log, holds no token)."""


@dataclass(frozen=True, slots=True)
class RelayPeer:
    """An authenticated edge at the other end of a link."""

    edge_id: str
    region: str
    expires_at: int


def issue_relay_token(key: Ed25519PrivateKey, edge_id: str, region: str, *, now: float, ttl_s: int = 600) -> str:
    """What the API gives a registered edge (also used by tests and the mesh launcher)."""
    payload = {
        "iss": RELAY_TOKEN_ISSUER,
        "aud": RELAY_TOKEN_AUDIENCE,
        "sub": edge_id,
        "region": region,
        "iat": int(now),
        "exp": int(now) + ttl_s,
    }
    return jwt.encode(payload, key, algorithm="EdDSA")


class RelayTokenVerifier:
    def __init__(self, public_key: Ed25519PublicKey, *, leeway_s: int = 5) -> None:
        self._key = public_key
        self._leeway_s = leeway_s

    def verify(self, token: str, now: float) -> RelayPeer:
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=["EdDSA"],  # never the token's choice (RFC 8725 section 3.1)
                audience=RELAY_TOKEN_AUDIENCE,
                issuer=RELAY_TOKEN_ISSUER,
                options={"require": list(_REQUIRED), "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise RelayAuthError(f"relay token refused: {exc}") from None
        exp, iat = payload["exp"], payload["iat"]
        if type(exp) is not int or type(iat) is not int:
            raise RelayAuthError("relay token times must be integers")
        if exp + self._leeway_s <= now:
            raise RelayAuthError(f"relay token expired {int(now - exp)} s ago")
        if iat - self._leeway_s > now:
            raise RelayAuthError("relay token issued in the future; check clocks")
        sub, region = payload["sub"], payload["region"]
        if not isinstance(sub, str) or not sub or not isinstance(region, str):
            raise RelayAuthError("relay token names no edge")
        return RelayPeer(edge_id=sub, region=region, expires_at=exp)
