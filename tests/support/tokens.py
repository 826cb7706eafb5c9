"""Join tokens made in tests, shaped like the API's (for edge tests that need a token the API would not issue)."""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.tokens import JOIN_TOKEN_AUDIENCE, JOIN_TOKEN_ISSUER

NOW = 1_800_000_000
"""The issue time ``sign`` writes (10 s before) and its expiry (300 s after)."""


def sign(key: Ed25519PrivateKey, **overrides: Any) -> str:
    """A token shaped like the API's, with any claim replaced (None removes it)."""
    payload: dict[str, Any] = {
        "iss": JOIN_TOKEN_ISSUER,
        "aud": JOIN_TOKEN_AUDIENCE,
        "sub": "p1",
        "mtg": "m1",
        "role": "participant",
        "name": "Ada",
        "pub": ["audio"],
        "room": None,
        "iat": NOW - 10,
        "exp": NOW + 300,
    }
    payload.update(overrides)
    payload = {k: v for k, v in payload.items() if v is not None or k == "room"}
    return jwt.encode(payload, key, algorithm="EdDSA")
