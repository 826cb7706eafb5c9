"""Join-token verification: the edge's only proof of who a connection is (it never reads the API's database).

Sans-I/O: the verifier gets the API's public key as PEM and the current time as arguments; fetching the key is
``edge/signalling.py``'s job. The token format is set by ``api/security.py`` (``Credentials.join_token``) and the
claims by ``protocol/tokens.py``.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from protocol.tokens import JOIN_TOKEN_AUDIENCE, JOIN_TOKEN_ISSUER, JoinClaims, PublishKind

REQUIRED_CLAIMS = ("iss", "aud", "sub", "exp", "mtg", "role", "name", "pub")
"""``room`` is not here: the API sends it as ``null`` for the main room."""


class JoinTokenError(Exception):
    """A join token was refused. Subclasses say why; the message is safe to send to the client."""


class JoinTokenInvalidError(JoinTokenError):
    """Not a JWT, not EdDSA, or the signature does not match the API's key (tampered or another key)."""


class JoinTokenExpiredError(JoinTokenError):
    """``exp`` has passed (beyond the leeway); the client should ask the API for a fresh one."""


class JoinTokenAudienceError(JoinTokenError):
    """Signed for something other than the edge (``aud`` is not ``meetmesh-edge``)."""


class JoinTokenIssuerError(JoinTokenError):
    """``iss`` is not ``meetmesh-api``."""


class JoinTokenClaimsError(JoinTokenError):
    """A required claim is missing or has the wrong type."""


class JoinKeyError(ValueError):
    """The configured public key is not an Ed25519 public key in PEM."""


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise JoinKeyError(f"join-token key is not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise JoinKeyError(f"join-token key must be Ed25519 (got {type(key).__name__})")
    return key


class JoinTokenVerifier:
    def __init__(self, public_key: Ed25519PublicKey | str | bytes, *, leeway_s: int = 5) -> None:
        self._key = public_key if isinstance(public_key, Ed25519PublicKey) else load_public_key(public_key)
        self._leeway_s = leeway_s

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The API's key (it also signs the relay tokens edges show each other, ``relay.auth``)."""
        return self._key

    def verify(self, token: str, *, now: float | None = None) -> JoinClaims:
        """The claims of ``token`` if the API signed it for an edge and it is still valid at ``now``."""
        now = time.time() if now is None else now
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                self._key,
                # Only EdDSA: never let the token pick its algorithm (RFC 8725 section 3.1, e.g. "none" or HS256
                # keyed with the public key).
                algorithms=["EdDSA"],
                audience=JOIN_TOKEN_AUDIENCE,
                issuer=JOIN_TOKEN_ISSUER,
                # Time claims are checked below against the caller's `now`, so tests need no clock games.
                options={"require": list(REQUIRED_CLAIMS), "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidAudienceError as exc:
            raise JoinTokenAudienceError(f"join token is not for the edge: {exc}") from exc
        except jwt.InvalidIssuerError as exc:
            raise JoinTokenIssuerError(f"join token has the wrong issuer: {exc}") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise JoinTokenClaimsError(f"join token lacks a claim: {exc}") from exc
        except jwt.PyJWTError as exc:
            # Bad signature, malformed token, wrong algorithm: the same to the client, with pyjwt's detail.
            raise JoinTokenInvalidError(f"invalid join token: {exc}") from exc
        return self._claims(payload, now)

    def _claims(self, payload: dict[str, Any], now: float) -> JoinClaims:
        exp = payload["exp"]
        if not isinstance(exp, int) or isinstance(exp, bool):
            raise JoinTokenClaimsError(f"join token 'exp' must be an integer (got {exp!r})")
        if exp + self._leeway_s <= now:
            raise JoinTokenExpiredError(f"join token expired {int(now - exp)} s ago; ask the API for a fresh one")
        iat = payload.get("iat")
        if isinstance(iat, int) and iat - self._leeway_s > now:
            # A token from the future means the clocks disagree by more than the leeway; refuse rather than
            # accept a token whose lifetime we cannot reason about.
            raise JoinTokenInvalidError(f"join token issued {int(iat - now)} s in the future; check clocks")
        strings = {k: payload[k] for k in ("sub", "mtg", "role", "name")}
        for key, value in strings.items():
            if not isinstance(value, str) or not value:
                raise JoinTokenClaimsError(f"join token claim {key!r} must be a non-empty string (got {value!r})")
        room = payload.get("room")
        if room is not None and not isinstance(room, str):
            raise JoinTokenClaimsError(f"join token claim 'room' must be a string or null (got {room!r})")
        pub = payload["pub"]
        if not isinstance(pub, list) or not all(isinstance(p, str) for p in pub):
            raise JoinTokenClaimsError(f"join token claim 'pub' must be a list of strings (got {pub!r})")
        known = {k.value for k in PublishKind}
        return JoinClaims(
            meeting_id=strings["mtg"],
            participant_id=strings["sub"],
            role=strings["role"],
            display_name=strings["name"],
            # A kind this edge does not know (a newer API) is dropped: that grants less, never more.
            publish=tuple(PublishKind(p) for p in pub if p in known),
            room=room,
            expires_at=exp,
        )
