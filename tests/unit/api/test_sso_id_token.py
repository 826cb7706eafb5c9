"""api/sso/id_token.py: every check of OIDC Core section 3.1.3.7, with keys made here (no provider)."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from api.sso.id_token import IdTokenError, UnknownKeyError, identity, verify

ISS, CLIENT, NONCE = "https://id.acme.test", "meetmesh", "n-0123456789"
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC = ec.generate_private_key(ec.SECP256R1())


def _jwk(key: Any, kid: str, alg: str | None) -> dict[str, Any]:
    algo = jwt.algorithms.RSAAlgorithm if alg in (None, "RS256", "PS256") else jwt.algorithms.ECAlgorithm
    out: dict[str, Any] = json.loads(algo.to_jwk(key.public_key()))
    out["kid"] = kid
    if alg:
        out["alg"] = alg
    return out


JWKS = {"keys": [_jwk(RSA, "r1", "RS256"), _jwk(EC, "e1", "ES256")]}


def _token(claims: dict[str, Any] | None = None, *, key: Any = RSA, alg: str = "RS256", kid: str | None = "r1") -> str:
    now = int(time.time())
    body = {"iss": ISS, "aud": CLIENT, "sub": "s-1", "iat": now, "exp": now + 300, "nonce": NONCE}
    body.update(claims or {})
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid} if kid else None)


def _check(token: str, jwks: dict[str, Any] = JWKS) -> dict[str, Any]:
    return verify(token, jwks, issuer=ISS, client_id=CLIENT, nonce=NONCE)


def test_a_good_token_passes_with_either_key() -> None:
    assert _check(_token())["sub"] == "s-1"
    assert _check(_token(key=EC, alg="ES256", kid="e1"))["sub"] == "s-1"


@pytest.mark.parametrize(
    ("claims", "match"),
    [
        ({"iss": "https://evil.test"}, "iss"),
        ({"aud": "someone-else"}, "aud"),
        ({"aud": [CLIENT, "other"]}, "azp"),
        ({"aud": [CLIENT, "other"], "azp": "other"}, "azp"),
        ({"azp": "other"}, "azp"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"iat": None}, "iat"),
        ({"iat": int(time.time()) + 3600}, "not valid"),
        ({"nonce": "another"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"sub": ""}, "sub"),
        ({"sub": None}, "sub"),
    ],
)
def test_each_claim_check_refuses(claims: dict[str, Any], match: str) -> None:
    with pytest.raises(IdTokenError, match=match):
        _check(_token(claims))


def test_several_audiences_with_us_as_authorised_party_pass() -> None:
    assert _check(_token({"aud": [CLIENT, "other"], "azp": CLIENT}))["azp"] == CLIENT


def test_signature_and_algorithm_checks() -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(IdTokenError, match="signature"):
        _check(_token(key=other))  # signed by a key that is not the one named
    with pytest.raises(IdTokenError, match="algorithm"):
        _check(jwt.encode({"iss": ISS}, "", algorithm="none"))
    # HS256 keyed with the provider's public RSA key (the classic confusion) is refused before any key is used.
    with pytest.raises(IdTokenError, match="algorithm"):
        _check(_token(key="a shared secret of some length here!", alg="HS256"))
    # A key that names RS256 does not verify a PS256 token, even with the right key material.
    with pytest.raises(IdTokenError, match="algorithm"):
        _check(_token(alg="PS256"))
    # A key of the wrong type for the header's algorithm.
    with pytest.raises(IdTokenError):
        _check(_token(key=EC, alg="ES256", kid="r1"))


def test_unknown_and_missing_key_ids() -> None:
    with pytest.raises(UnknownKeyError):
        _check(_token(kid="rotated-in"))
    with pytest.raises(IdTokenError, match="kid"):
        _check(_token(kid=None))  # two keys published: a kid is required (section 10.1)
    single = {"keys": [_jwk(RSA, "r1", None)]}
    assert _check(_token(kid=None), single)["sub"] == "s-1"
    with pytest.raises(UnknownKeyError):
        _check(_token(), {"keys": [{**_jwk(RSA, "r1", "RS256"), "use": "enc"}]})  # not a signing key
    with pytest.raises(IdTokenError, match="JWS"):
        _check("not.a.token")


def test_identity_claims() -> None:
    claims = {"iss": ISS, "sub": "s", "email": " Ann@Acme.TEST ", "email_verified": "true", "name": " Ann "}
    found = identity(claims)
    assert (found.email, found.email_verified, found.name) == ("ann@acme.test", True, "Ann")
    assert identity({**claims, "email_verified": "yes"}).email_verified is False
    assert identity({**claims, "email_verified": None}).email_verified is False
    assert identity({"iss": ISS, "sub": "s", "email": 5}).email is None
