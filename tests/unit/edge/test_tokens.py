"""Join-token verification against tokens signed by the API's own code (``api.security.Credentials``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

from api.security import Credentials
from api.settings import Settings as ApiSettings
from edge.tokens import (
    JoinKeyError,
    JoinTokenAudienceError,
    JoinTokenClaimsError,
    JoinTokenExpiredError,
    JoinTokenInvalidError,
    JoinTokenIssuerError,
    JoinTokenVerifier,
)
from protocol.tokens import JOIN_TOKEN_AUDIENCE, JOIN_TOKEN_ISSUER, JoinClaims, PublishKind
from tests.support.tokens import NOW, sign


def claims(**overrides: Any) -> JoinClaims:
    base: dict[str, Any] = dict(
        meeting_id="m1",
        participant_id="p1",
        role="host",
        display_name="Ada",
        publish=(PublishKind.AUDIO, PublishKind.VIDEO),
        room=None,
        expires_at=int(time.time()) + 300,
    )
    return JoinClaims(**{**base, **overrides})


def pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture
def api_creds(tmp_path: Path) -> Credentials:
    return Credentials(ApiSettings(data_dir=tmp_path))


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def verifier(key: Ed25519PrivateKey) -> JoinTokenVerifier:
    return JoinTokenVerifier(pem(key), leeway_s=5)


def test_token_signed_by_the_api_is_accepted(api_creds: Credentials) -> None:
    issued = claims(room="r7", publish=(PublishKind.AUDIO, PublishKind.VIDEO, PublishKind.SCREEN))
    got = JoinTokenVerifier(api_creds.join_public_key_pem).verify(api_creds.join_token(issued))
    assert got == issued


def test_token_signed_with_another_api_key_is_refused(api_creds: Credentials, tmp_path: Path) -> None:
    other = Credentials(ApiSettings(data_dir=tmp_path / "other"))
    with pytest.raises(JoinTokenInvalidError, match="Signature verification failed"):
        JoinTokenVerifier(api_creds.join_public_key_pem).verify(other.join_token(claims()))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_tampered_payload_is_refused(api_creds: Credentials) -> None:
    header, payload, signature = api_creds.join_token(claims(role="participant")).split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["role"] = "host"
    forged = ".".join([header, _b64(json.dumps(body).encode()), signature])
    with pytest.raises(JoinTokenInvalidError):
        JoinTokenVerifier(api_creds.join_public_key_pem).verify(forged)


def test_tampered_signature_is_refused(key: Ed25519PrivateKey, verifier: JoinTokenVerifier) -> None:
    header, payload, signature = sign(key).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 1
    with pytest.raises(JoinTokenInvalidError, match="Signature verification failed"):
        verifier.verify(".".join([header, payload, _b64(bytes(raw))]), now=NOW)


def test_expired_token_is_refused_beyond_the_leeway(key: Ed25519PrivateKey, verifier: JoinTokenVerifier) -> None:
    token = sign(key, exp=NOW - 60)
    with pytest.raises(JoinTokenExpiredError, match="expired 60 s ago"):
        verifier.verify(token, now=NOW)


def test_expiry_tolerates_the_leeway(key: Ed25519PrivateKey, verifier: JoinTokenVerifier) -> None:
    token = sign(key, exp=NOW - 4)
    assert verifier.verify(token, now=NOW).expires_at == NOW - 4
    with pytest.raises(JoinTokenExpiredError):
        verifier.verify(token, now=NOW + 1)


def test_token_from_the_future_is_refused(key: Ed25519PrivateKey, verifier: JoinTokenVerifier) -> None:
    with pytest.raises(JoinTokenInvalidError, match="in the future"):
        verifier.verify(sign(key, iat=NOW + 60), now=NOW)


def test_wrong_audience_is_refused(key: Ed25519PrivateKey, verifier: JoinTokenVerifier) -> None:
    with pytest.raises(JoinTokenAudienceError):
        verifier.verify(sign(key, aud="meetmesh-api"), now=NOW)


def test_wrong_issuer_is_refused(key: Ed25519PrivateKey, verifier: JoinTokenVerifier) -> None:
    with pytest.raises(JoinTokenIssuerError):
        verifier.verify(sign(key, iss="someone-else"), now=NOW)


@pytest.mark.parametrize("claim", ["sub", "mtg", "role", "name", "pub", "exp", "aud", "iss"])
def test_missing_required_claim_is_refused(key: Ed25519PrivateKey, verifier: JoinTokenVerifier, claim: str) -> None:
    # A missing aud/iss must not slip through as "not checked".
    with pytest.raises((JoinTokenClaimsError, JoinTokenAudienceError, JoinTokenIssuerError)):
        verifier.verify(sign(key, **{claim: None}), now=NOW)


@pytest.mark.parametrize(
    ("claim", "value"), [("sub", 5), ("mtg", ""), ("pub", "audio"), ("pub", [1]), ("room", 3), ("exp", "soon")]
)
def test_ill_typed_claim_is_refused(
    key: Ed25519PrivateKey, verifier: JoinTokenVerifier, claim: str, value: Any
) -> None:
    # pyjwt itself refuses some (a non-integer exp), the verifier the rest: either way the token is refused.
    with pytest.raises((JoinTokenClaimsError, JoinTokenInvalidError)):
        verifier.verify(sign(key, **{claim: value}), now=NOW)


def test_unknown_publish_kind_is_dropped(key: Ed25519PrivateKey, verifier: JoinTokenVerifier) -> None:
    got = verifier.verify(sign(key, pub=["audio", "hologram"]), now=NOW)
    assert got.publish == (PublishKind.AUDIO,)


@pytest.mark.parametrize("algorithm", ["HS256", "none"])
def test_other_algorithms_are_refused(key: Ed25519PrivateKey, verifier: JoinTokenVerifier, algorithm: str) -> None:
    payload = {
        "iss": JOIN_TOKEN_ISSUER,
        "aud": JOIN_TOKEN_AUDIENCE,
        "sub": "p",
        "mtg": "m",
        "role": "host",
        "name": "x",
        "pub": [],
        "exp": NOW + 60,
    }
    # Built by hand: pyjwt will not make these. HS256 keyed with the public key PEM is the classic
    # algorithm-confusion forgery; "none" is an unsigned token.
    signing_input = (
        _b64(json.dumps({"alg": algorithm, "typ": "JWT"}).encode()) + "." + _b64(json.dumps(payload).encode())
    )
    mac = hmac.new(pem(key), signing_input.encode(), hashlib.sha256).digest() if algorithm == "HS256" else b""
    token = signing_input + "." + _b64(mac)
    with pytest.raises(JoinTokenInvalidError):
        verifier.verify(token, now=NOW)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 5000])
def test_garbage_is_refused(verifier: JoinTokenVerifier, token: str) -> None:
    with pytest.raises(JoinTokenInvalidError):
        verifier.verify(token, now=NOW)


def test_non_ed25519_key_is_rejected_at_configuration() -> None:
    rsa = generate_private_key(public_exponent=65537, key_size=2048).public_key()
    rsa_pem = rsa.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(JoinKeyError, match="must be Ed25519"):
        JoinTokenVerifier(rsa_pem)
    with pytest.raises(JoinKeyError, match="not a PEM"):
        JoinTokenVerifier(b"not a key")
