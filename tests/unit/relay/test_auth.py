"""Relay tokens: only the API's key, only the relay audience, only while valid."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from relay.auth import RelayAuthError, RelayPeer, RelayTokenVerifier, issue_relay_token

NOW = 1_800_000_000.0


@pytest.fixture
def api_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_a_token_the_api_issued_names_its_edge(api_key: Ed25519PrivateKey) -> None:
    token = issue_relay_token(api_key, "edge-7", "ap-south", now=NOW, ttl_s=300)
    peer = RelayTokenVerifier(api_key.public_key()).verify(token, NOW + 10)
    assert peer == RelayPeer("edge-7", "ap-south", int(NOW) + 300)


def _forge(key: object, algorithm: str, **claims: object) -> str:
    base: dict[str, object] = {
        "iss": "meetmesh-api",
        "aud": "meetmesh-relay",
        "sub": "edge-x",
        "region": "eu",
        "iat": int(NOW),
        "exp": int(NOW) + 600,
    }
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, key, algorithm=algorithm)  # type: ignore[arg-type]


def _hs256_with(secret: bytes) -> str:
    """The classic confusion attack: HS256 keyed with the verifier's public key (RFC 8725 section 2.1)."""

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    claims = {
        "iss": "meetmesh-api",
        "aud": "meetmesh-relay",
        "sub": "edge-x",
        "region": "eu",
        "iat": int(NOW),
        "exp": int(NOW) + 600,
    }
    signing = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + b"." + b64(json.dumps(claims).encode())
    return (signing + b"." + b64(hmac.new(secret, signing, hashlib.sha256).digest())).decode()


REFUSED: dict[str, Callable[[Ed25519PrivateKey], str]] = {
    "another key": lambda k: _forge(Ed25519PrivateKey.generate(), "EdDSA"),
    "a participant's join token audience": lambda k: _forge(k, "EdDSA", aud="meetmesh-edge"),
    "another issuer": lambda k: _forge(k, "EdDSA", iss="someone"),
    "expired": lambda k: _forge(k, "EdDSA", exp=int(NOW) - 6),
    "from the future": lambda k: _forge(k, "EdDSA", iat=int(NOW) + 60),
    "no region": lambda k: _forge(k, "EdDSA", region=None),
    "no edge": lambda k: _forge(k, "EdDSA", sub=""),
    "float times": lambda k: _forge(k, "EdDSA", exp=NOW + 600.5),
    "alg none": lambda k: _forge(None, "none"),
    "HS256 keyed with the public key": lambda k: _hs256_with(
        k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    ),
    "garbage": lambda k: "not.a.token",
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused(api_key: Ed25519PrivateKey, case: str) -> None:
    with pytest.raises(RelayAuthError):
        RelayTokenVerifier(api_key.public_key(), leeway_s=5).verify(REFUSED[case](api_key), NOW)


def test_leeway_is_symmetric_and_small(api_key: Ed25519PrivateKey) -> None:
    verifier = RelayTokenVerifier(api_key.public_key(), leeway_s=5)
    token = issue_relay_token(api_key, "e", "r", now=NOW, ttl_s=60)
    verifier.verify(token, NOW + 64)
    with pytest.raises(RelayAuthError, match="expired"):
        verifier.verify(token, NOW + 65)
    verifier.verify(token, NOW - 4)
    with pytest.raises(RelayAuthError, match="future"):
        verifier.verify(token, NOW - 6)
