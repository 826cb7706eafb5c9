"""ID token validation, OpenID Connect Core 1.0 section 3.1.3.7, without I/O: the caller hands in the
provider's JWKS and gets the checked claims or an ``IdTokenError`` (``UnknownKeyError`` when the token names a
key the JWKS does not hold: the caller refetches the JWKS once, the provider may have rotated its keys)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

import jwt

ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""Asymmetric signatures only. ``none`` is refused (section 3.1.3.7 step 6 requires a signature for the code flow
only over TLS — we refuse it anyway), and HS* too: HMAC keyed with the client secret would let anyone holding it
(every instance of this client) mint tokens, and an HS256 header over a public RSA key is the classic forgery."""
LEEWAY_S = 60
"""Clock skew tolerated on ``exp``, ``iat`` and ``nbf``."""


class IdTokenError(Exception):
    """The ID token is not acceptable; the message says which check failed (for logs and the user)."""


class UnknownKeyError(IdTokenError):
    """The token's ``kid`` is not in the JWKS we have."""


@dataclass(frozen=True, slots=True)
class IdentityClaims:
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


def _verified(value: object) -> bool:
    # OIDC Core section 5.1 makes it a boolean; some providers send the string "true". Anything else: not verified.
    return value is True or value == "true"


def identity(claims: dict[str, Any]) -> IdentityClaims:
    email = claims.get("email")
    name = claims.get("name")
    return IdentityClaims(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
        email_verified=_verified(claims.get("email_verified")),
        name=name.strip() if isinstance(name, str) and name.strip() else None,
    )


def _key_for(header: dict[str, Any], jwks: dict[str, Any]) -> jwt.PyJWK:
    raw = jwks.get("keys")
    candidates = (
        [k for k in raw if isinstance(k, dict) and k.get("use", "sig") == "sig"] if isinstance(raw, list) else []
    )
    kid = header.get("kid")
    if kid is None:
        # Section 10.1: a kid is only optional when the JWKS holds a single key.
        if len(candidates) != 1:
            raise IdTokenError("the ID token names no key (kid) and the provider does not publish exactly one")
        chosen = candidates[0]
    else:
        found = [k for k in candidates if k.get("kid") == kid]
        if not found:
            raise UnknownKeyError(f"the ID token is signed with key {str(kid)[:64]!r}, which the provider's JWKS lacks")
        chosen = found[0]
    alg = str(header["alg"])
    if chosen.get("alg", alg) != alg:  # RFC 7517 section 4.4: a key that names its algorithm is for that one only
        raise IdTokenError(f"the ID token's algorithm {alg} is not the one its key is for ({chosen.get('alg')})")
    try:
        # The key is bound to the header's algorithm (already on the allow-list): PyJWT then refuses a key of the
        # wrong type for it, e.g. an RSA key for an ES256 header.
        return jwt.PyJWK(chosen, algorithm=alg)
    except jwt.PyJWTError as exc:
        raise IdTokenError(f"the provider's key for the ID token is not usable ({exc})") from None


def verify(token: str, jwks: dict[str, Any], *, issuer: str, client_id: str, nonce: str) -> dict[str, Any]:
    """The claims of ``token`` once its signature, issuer, audience, authorised party, times and nonce check out."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise IdTokenError("the ID token is not a JWS") from None
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise IdTokenError(f"the ID token's algorithm {str(alg)[:16]!r} is not accepted")
    key = _key_for(header, jwks)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[key.algorithm_name],
            audience=client_id,  # step 3: aud contains our client_id
            issuer=issuer,  # step 2: exactly the issuer we discovered
            leeway=LEEWAY_S,
            options={"require": ["iss", "sub", "aud", "exp", "iat"], "strict_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise IdTokenError("the ID token has expired") from None
    except jwt.InvalidAudienceError:
        raise IdTokenError("the ID token is not meant for this client (aud)") from None
    except jwt.InvalidIssuerError:
        raise IdTokenError("the ID token comes from another issuer (iss)") from None
    except jwt.InvalidSignatureError:
        raise IdTokenError("the ID token's signature does not verify") from None
    except jwt.PyJWTError as exc:
        raise IdTokenError(f"the ID token is not valid ({exc})") from None
    aud = claims["aud"]
    azp = claims.get("azp")
    # Steps 4 and 5: with several audiences the authorised party must be present, and when present it must be us.
    if isinstance(aud, list) and len(aud) > 1 and azp is None:
        raise IdTokenError("the ID token has several audiences but no authorised party (azp)")
    if azp is not None and azp != client_id:
        raise IdTokenError("the ID token was issued to another client (azp)")
    if not isinstance(claims["sub"], str) or not claims["sub"] or len(claims["sub"]) > 255:
        raise IdTokenError("the ID token's subject (sub) must be a string of 1..255 characters")
    # Step 11: the nonce we sent in this browser's authentication request, so a token cannot be replayed.
    got = claims.get("nonce")
    if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
        raise IdTokenError("the ID token's nonce does not match this sign-in")
    return claims
