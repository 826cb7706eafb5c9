"""Credentials: password/passcode hashes, access and guest tokens (HS256), join tokens for edges (EdDSA)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from api.errors import UnauthenticatedError
from api.settings import Settings
from protocol.tokens import JOIN_TOKEN_AUDIENCE, JOIN_TOKEN_ISSUER, JoinClaims

ACCESS = "access"
GUEST = "guest"


@dataclass(frozen=True, slots=True)
class UserPrincipal:
    user_id: str


@dataclass(frozen=True, slots=True)
class GuestPrincipal:
    guest_id: str
    display_name: str


Principal = UserPrincipal | GuestPrincipal


def _load_or_create(path: Path, make: Any) -> bytes:
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    data: bytes = make()
    # Write-then-rename so two processes starting together agree on one key.
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process created it first: everyone reads that one below
    finally:
        tmp.unlink()
    return path.read_bytes()


class Credentials:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib, parallelism=1
        )
        self._secret = settings.secret_key.encode() or _load_or_create(
            settings.data_dir / "secret.key", lambda: secrets.token_urlsafe(48).encode()
        )
        pem = _load_or_create(
            settings.data_dir / "join-token-ed25519.pem",
            lambda: Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        key = serialization.load_pem_private_key(pem, password=None)
        assert isinstance(key, Ed25519PrivateKey)
        self._join_key = key

    def derive_key(self, purpose: bytes) -> bytes:
        """A key for one purpose, derived from the deployment secret (the same on every API process): a MAC made
        for one purpose can never be replayed as another (e.g. a file-URL signature as an access token)."""
        return hmac.new(self._secret, b"meetmesh:" + purpose, hashlib.sha256).digest()

    # -- secrets at rest ---------------------------------------------------------------------------------
    def hash_secret(self, plain: str) -> str:
        return self._hasher.hash(plain)

    def verify_secret(self, hashed: str, plain: str) -> bool:
        try:
            return self._hasher.verify(hashed, plain)
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    def new_refresh_token() -> tuple[str, str]:
        """Return (token for the client, digest to store). Refresh tokens are high-entropy, so SHA-256 suffices."""
        token = secrets.token_urlsafe(32)
        return token, hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def refresh_digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    # -- bearer tokens -------------------------------------------------------------------------------------
    def access_token(self, user_id: str) -> str:
        now = int(time.time())
        claims = {"typ": ACCESS, "sub": user_id, "iat": now, "exp": now + self.settings.access_token_ttl_s}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def guest_token(self, guest_id: str, display_name: str) -> str:
        now = int(time.time())
        claims = {
            "typ": GUEST,
            "sub": guest_id,
            "name": display_name,
            "iat": now,
            "exp": now + self.settings.guest_token_ttl_s,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def principal_from_bearer(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError as exc:
            raise UnauthenticatedError("access token expired; refresh it") from exc
        except jwt.PyJWTError as exc:
            raise UnauthenticatedError("invalid access token") from exc
        if claims.get("typ") == ACCESS:
            return UserPrincipal(user_id=str(claims["sub"]))
        if claims.get("typ") == GUEST:
            return GuestPrincipal(guest_id=str(claims["sub"]), display_name=str(claims.get("name", "Guest")))
        raise UnauthenticatedError("invalid access token")

    # -- join tokens for the media edge -------------------------------------------------------------------
    @property
    def join_public_key_pem(self) -> str:
        pub: Ed25519PublicKey = self._join_key.public_key()
        return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def join_token(self, claims: JoinClaims) -> str:
        payload = {
            "iss": JOIN_TOKEN_ISSUER,
            "aud": JOIN_TOKEN_AUDIENCE,
            "sub": claims.participant_id,
            "mtg": claims.meeting_id,
            "role": claims.role,
            "name": claims.display_name,
            "pub": [k.value for k in claims.publish],
            "room": claims.room,
            "iat": int(time.time()),
            "exp": claims.expires_at,
            "jti": secrets.token_urlsafe(9),
        }
        return jwt.encode(payload, self._join_key, algorithm="EdDSA")
