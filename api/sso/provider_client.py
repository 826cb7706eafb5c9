"""Talking to one OpenID provider: its discovery document, its keys (JWKS), the token and userinfo endpoints.

The only I/O in api/sso besides the database. Discovery and keys are cached per process; keys are fetched again
when an ID token names a key we do not hold (the provider rotated), once per token. That refetch cannot be
driven by an attacker: ID tokens reach us only in the token endpoint's answer to our own request over the back
channel, never from the browser.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from api.errors import UnauthenticatedError
from api.sso import id_token
from api.sso.providers import OidcProvider, check_url

log = logging.getLogger("meetmesh.sso")

MAX_RESPONSE_BYTES = 256 * 1024
"""Discovery documents, key sets and token answers are a few kB; anything bigger is refused unread."""
DISCOVERY_TTL_S = 3600.0
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class ProviderError(UnauthenticatedError):
    """The provider could not be reached, or answered something we cannot use: the sign-in fails."""


@dataclass(slots=True)
class ProviderClient:
    provider: OidcProvider
    _metadata: dict[str, Any] | None = None
    _metadata_at: float = 0.0
    _jwks: dict[str, Any] | None = None
    jwks_fetches: int = 0
    """How many times the key set was fetched (tests check that rotation costs exactly one refetch)."""
    _http: httpx.AsyncClient | None = field(default=None, repr=False)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            # Redirects are not followed: a provider's endpoints answer directly (and following one could lead a
            # token request with our client secret somewhere else).
            self._http = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _json(self, method: str, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
        name = self.provider.label or self.provider.name
        try:
            async with self._client().stream(method, url, **kwargs) as response:
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise ProviderError(f"{name}'s {what} answer is larger than {MAX_RESPONSE_BYTES} bytes")
        except httpx.HTTPError as exc:
            log.warning("sso: %s %s failed: %r", self.provider.name, what, exc)
            raise ProviderError(f"could not reach {name} ({what}); try again in a moment") from None
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if response.status_code >= 400:
            # RFC 6749 section 5.2: an error answer carries "error" (and maybe "error_description").
            error = data.get("error") if isinstance(data, dict) else None
            log.info("sso: %s %s answered %d %s", self.provider.name, what, response.status_code, error)
            detail = f": {str(error)[:64]}" if error else ""
            raise ProviderError(f"{name} refused the {what} request (HTTP {response.status_code}{detail})")
        if not isinstance(data, dict):
            raise ProviderError(f"{name}'s {what} answer is not a JSON object")
        return data

    async def metadata(self) -> dict[str, Any]:
        now = time.monotonic()
        if self._metadata is not None and now - self._metadata_at < DISCOVERY_TTL_S:
            return self._metadata
        doc = await self._json("GET", self.provider.discovery_url, "discovery")
        # OpenID Connect Discovery 1.0 section 4.3: the issuer in the document must be exactly the one configured,
        # or a document served elsewhere could name endpoints for someone else's issuer.
        if doc.get("issuer") != self.provider.issuer:
            raise ProviderError(
                f"{self.provider.name}: the discovery document's issuer {str(doc.get('issuer'))[:100]!r} is not "
                f"the configured {self.provider.issuer!r}"
            )
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = doc.get(key)
            try:
                check_url(key, value if isinstance(value, str) else "")
            except ValueError as exc:
                raise ProviderError(f"{self.provider.name}: {exc}") from None
        self._metadata, self._metadata_at = doc, now
        return doc

    async def jwks(self, *, refresh: bool = False) -> dict[str, Any]:
        if self._jwks is None or refresh:
            meta = await self.metadata()
            keys = await self._json("GET", meta["jwks_uri"], "key set")
            if not isinstance(keys.get("keys"), list):
                raise ProviderError(f"{self.provider.name}'s key set has no 'keys' list")
            self._jwks = keys
            self.jwks_fetches += 1
        return self._jwks

    async def verify_id_token(self, token: str, *, nonce: str) -> dict[str, Any]:
        p = self.provider
        try:
            return id_token.verify(token, await self.jwks(), issuer=p.issuer, client_id=p.client_id, nonce=nonce)
        except id_token.UnknownKeyError:
            # The provider rotated its keys since we fetched them (OIDC Core section 10.1.1): fetch once more.
            log.info("sso: %s signed with a key we do not hold; fetching its key set again", p.name)
            return id_token.verify(
                token, await self.jwks(refresh=True), issuer=p.issuer, client_id=p.client_id, nonce=nonce
            )

    async def exchange_code(self, code: str, *, code_verifier: str, redirect_uri: str) -> dict[str, Any]:
        """OIDC Core section 3.1.3.1 with PKCE (RFC 7636 section 4.5); client_secret_basic (RFC 6749 2.3.1)."""
        meta = await self.metadata()
        answer = await self._json(
            "POST",
            meta["token_endpoint"],
            "token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
            auth=(self.provider.client_id, self.provider.client_secret),
            headers={"accept": "application/json"},
        )
        if not isinstance(answer.get("id_token"), str):
            raise ProviderError(f"{self.provider.label or self.provider.name} returned no ID token")
        return answer

    async def userinfo(self, access_token: str) -> dict[str, Any] | None:
        """The UserInfo claims (OIDC Core section 5.3), or None when the provider has no such endpoint."""
        meta = await self.metadata()
        url = meta.get("userinfo_endpoint")
        if not isinstance(url, str):
            return None
        try:
            check_url("userinfo_endpoint", url)
        except ValueError as exc:
            raise ProviderError(f"{self.provider.name}: {exc}") from None
        return await self._json("GET", url, "userinfo", headers={"authorization": f"Bearer {access_token}"})
