"""Credentials: password/passcode hashes, access and guest tokens (HS256), join tokens for edges (EdDSA)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from api.errors import UnauthenticatedError
from api.settings import Settings
from protocol.tokens import JOIN_TOKEN_AUDIENCE, JOIN_TOKEN_ISSUER, RELAY_TOKEN_AUDIENCE, JoinClaims

ACCESS = "access"
GUEST = "guest"
CLIENT_TOKEN_PREFIX = "mmc1."
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{16,32}")
_CLIENT_TOKEN = re.compile(r"mmc1\.([A-Za-z0-9_-]{16,32})\.[A-Za-z0-9_-]{22}")


@dataclass(frozen=True, slots=True)
class UserPrincipal:
    user_id: str
    key_id: str | None = None
    """Set when the caller is an API key (api/apikeys) acting for this user; None for the user's own session."""
    scopes: frozenset[str] | None = None
    """What an API key may do (api/apikeys/scopes.py); None: everything the user may (a session token)."""


@dataclass(frozen=True, slots=True)
class GuestPrincipal:
    guest_id: str
    display_name: str
    client_id: str | None = None
    """The client (browser, app) the guest token was issued to."""


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


VERIFIED_TOKENS_KEPT = 4096


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
        self._verified: dict[str, tuple[Principal, float]] = {}
        """Bearer tokens whose signature was checked, with their expiry (see ``principal_from_bearer``)."""

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

    def guest_token(self, guest_id: str, display_name: str, client_id: str | None = None) -> str:
        now = int(time.time())
        claims = {
            "typ": GUEST,
            "sub": guest_id,
            "name": display_name,
            "cid": client_id,
            "iat": now,
            "exp": now + self.settings.guest_token_ttl_s,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def principal_from_bearer(self, token: str) -> Principal:
        # A token's bytes never change, so its signature is checked once and its claims kept; only the expiry is
        # checked again (PyJWT's rule: valid while now < exp). Decoding cost ~40 us and ran twice per request
        # (the audit middleware and the GraphQL context). Only valid tokens are kept, so a stream of forged ones
        # cannot fill the table; it is bounded and simply emptied when full.
        known = self._verified.get(token)
        if known is not None:
            if time.time() < known[1]:
                return known[0]
            raise UnauthenticatedError("access token expired; refresh it")
        principal, exp = self._decode_bearer(token)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            self._verified.clear()
        self._verified[token] = (principal, exp)
        return principal

    def _decode_bearer(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError as exc:
            raise UnauthenticatedError("access token expired; refresh it") from exc
        except jwt.PyJWTError as exc:
            raise UnauthenticatedError("invalid access token") from exc
        exp = float(claims["exp"])
        if claims.get("typ") == ACCESS:
            return UserPrincipal(user_id=str(claims["sub"])), exp
        if claims.get("typ") == GUEST:
            cid = claims.get("cid")
            return GuestPrincipal(
                guest_id=str(claims["sub"]),
                display_name=str(claims.get("name", "Guest")),
                client_id=cid if isinstance(cid, str) and _CLIENT_ID.fullmatch(cid) else None,
            ), exp
        raise UnauthenticatedError("invalid access token")

    # -- client identity, addresses, passcodes at rest, invite links ----------------------------------------
    def client_token(self, client_id: str) -> str:
        """A long-lived identity for one browser or app, issued by this server (no personal data in it): the SDK
        keeps it and presents it when it joins, so the host's block follows the client, not the name typed."""
        mac = hmac.new(self.derive_key(b"client-token"), client_id.encode(), hashlib.sha256).digest()[:16]
        return f"{CLIENT_TOKEN_PREFIX}{client_id}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"

    def client_id_from_token(self, token: str | None) -> str | None:
        """The client id a token was issued for; None for anything else (forged, malformed, foreign)."""
        if not token or len(token) > 100:
            return None
        m = _CLIENT_TOKEN.fullmatch(token)
        if m is None:
            return None
        return m.group(1) if hmac.compare_digest(self.client_token(m.group(1)).encode(), token.encode()) else None

    def address_mark(self, address: str) -> str:
        """A keyed hash of a client address: comparable, but not the address (the database never holds it)."""
        return hmac.new(self.derive_key(b"client-addr"), address.encode(), hashlib.sha256).hexdigest()[:32]

    def seal_passcode(self, meeting_id: str, passcode: str) -> str:
        nonce = secrets.token_bytes(12)
        box = AESGCM(self.derive_key(b"passcode-seal")).encrypt(nonce, passcode.encode(), meeting_id.encode())
        return base64.urlsafe_b64encode(nonce + box).decode()

    def open_passcode(self, meeting_id: str, sealed: str | None) -> str | None:
        if not sealed:
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
            return AESGCM(self.derive_key(b"passcode-seal")).decrypt(raw[:12], raw[12:], meeting_id.encode()).decode()
        except (ValueError, InvalidTag):
            return None  # sealed under another deployment secret: hosts can set a new passcode

    def seal_secret(self, purpose: str, bound_to: str, plain: str) -> str:
        """A secret kept so it can be used again (a connected calendar's password): AES-GCM under a key derived
        for ``purpose``, with ``bound_to`` (the row's id) as associated data, so a sealed value moved to another
        row does not open. Changing the deployment secret makes sealed values unreadable (users reconnect)."""
        nonce = secrets.token_bytes(12)
        key = self.derive_key(b"seal:" + purpose.encode())
        box = AESGCM(key).encrypt(nonce, plain.encode(), bound_to.encode())
        return base64.urlsafe_b64encode(nonce + box).decode()

    def open_secret(self, purpose: str, bound_to: str, sealed: str) -> str | None:
        """The plain secret, or None when it was sealed under another deployment secret or for another row."""
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
            key = self.derive_key(b"seal:" + purpose.encode())
            return AESGCM(key).decrypt(raw[:12], raw[12:], bound_to.encode()).decode()
        except (ValueError, InvalidTag):
            return None

    def invite_key(self, meeting_id: str, passcode_hash: str) -> str:
        """The key an invite link carries instead of the passcode: 128 bits, bound to the meeting and to its
        current passcode (changing the passcode retires old links); checked in constant time, not guessable."""
        mac = hmac.new(self.derive_key(b"invite"), f"{meeting_id}|{passcode_hash}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()[:16]).decode().rstrip("=")

    def invite_key_valid(self, meeting_id: str, passcode_hash: str, key: str | None) -> bool:
        if not key or len(key) > 64:
            return False
        # Bytes: compare_digest refuses non-ASCII str, and a key is whatever the caller typed.
        return hmac.compare_digest(self.invite_key(meeting_id, passcode_hash).encode(), key.encode())

    # -- join tokens for the media edge -------------------------------------------------------------------
    @property
    def join_public_key_pem(self) -> str:
        pub: Ed25519PublicKey = self._join_key.public_key()
        return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def relay_token(self, edge_id: str, region: str, now: float) -> tuple[str, int]:
        """A registered edge's relay credential and its expiry (``protocol.tokens.RELAY_TOKEN_AUDIENCE``)."""
        expires = int(now) + self.settings.relay_token_ttl_s
        payload = {
            "iss": JOIN_TOKEN_ISSUER,
            "aud": RELAY_TOKEN_AUDIENCE,
            "sub": edge_id,
            "region": region,
            "iat": int(now),
            "exp": expires,
        }
        return jwt.encode(payload, self._join_key, algorithm="EdDSA"), expires

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
