"""Join token: what the API grants an admitted participant and what an edge checks before accepting media.

Signed by the API with Ed25519 (JWT alg ``EdDSA``); edges hold only the public key, so a compromised edge
cannot mint tokens. Claims below are the whole contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

JOIN_TOKEN_AUDIENCE = "meetmesh-edge"
JOIN_TOKEN_ISSUER = "meetmesh-api"
RELAY_TOKEN_AUDIENCE = "meetmesh-relay"
"""Relay tokens (what an edge shows another edge on a relay link, ``relay/auth.py``) are signed with the same key
as join tokens but for this audience, so neither is ever accepted as the other. Claims: ``iss``, ``aud``, ``sub``
(the edge id), ``region``, ``iat``, ``exp``."""


class PublishKind(StrEnum):
    AUDIO = "audio"
    VIDEO = "video"
    SCREEN = "screen"


@dataclass(frozen=True, slots=True)
class JoinClaims:
    meeting_id: str  # claim "mtg"
    participant_id: str  # claim "sub"
    role: str  # claim "role": host | cohost | participant | guest
    display_name: str  # claim "name"
    publish: tuple[PublishKind, ...]  # claim "pub"
    room: str | None  # claim "room": breakout room id, None for the main room
    expires_at: int  # claim "exp"
