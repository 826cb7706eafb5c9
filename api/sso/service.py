"""Signing in with an OpenID provider: the authorization code flow with PKCE (OIDC Core section 3.1, RFC 7636).

``start`` picks the provider for an e-mail address, remembers the sign-in (state, nonce, PKCE verifier, which
browser) and returns the provider's authorization URL. ``finish`` takes the browser's return: it consumes the
state (once), exchanges the code, checks the ID token, decides which account it signs in to
(``api/sso/linking.py``) and leaves a one-time ticket the page trades for tokens (``redeem``), so no token ever
travels in a URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.exc import IntegrityError

from api import validation
from api.accounts.service import Session, issue_session
from api.audit import service as audit
from api.errors import BadInputError, ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError
from api.services import Services
from api.sso import linking, store
from api.sso.id_token import IdentityClaims, IdTokenError, identity
from api.sso.provider_client import ProviderClient, ProviderError
from api.sso.providers import OidcProvider, provider_for_email, provider_named
from dbschema.models import User, utcnow
from dbschema.sso import SsoAttempt, SsoTicket, UserIdentity
from protocol.ids import new_id

log = logging.getLogger("meetmesh.sso")

ATTEMPT_TTL_S = 600
"""How long a sign-in may take at the provider (typing a password, a second factor)."""
TICKET_TTL_S = 120
"""How long the page has to trade a finished sign-in for tokens (it does so at once on load)."""
CALLBACK_PATH = "/auth/sso/callback"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def redirect_uri(svc: Services) -> str:
    return svc.settings.base_url + CALLBACK_PATH


def client(svc: Services, provider: OidcProvider) -> ProviderClient:
    return svc.sso[provider.name]


def choose(svc: Services, *, email: str | None, provider: str | None) -> OidcProvider:
    providers = svc.settings.oidc_providers
    if not providers:
        raise NotFoundError("single sign-on is not configured on this server")
    if provider:
        found = provider_named(providers, provider)
        if found is None:
            raise NotFoundError(f"no identity provider is named {provider[:40]!r}")
        return found
    if not email:
        raise BadInputError("email", "type your work e-mail address to find your company's sign-in")
    address = validation.email("email", email)
    found = provider_for_email(providers, address)
    if found is None:
        domain = address.rsplit("@", 1)[1]
        raise NotFoundError(f"no company sign-in is set up for {domain}; sign in with your password instead")
    return found


@dataclass(frozen=True, slots=True)
class Started:
    authorization_url: str
    browser: str
    """The value of the browser-binding cookie (the one the browser already had, or a new one)."""


def _pkce_challenge(verifier: str) -> str:
    # RFC 7636 section 4.2, S256: BASE64URL(SHA256(ASCII(code_verifier))) without padding.
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


async def start(
    svc: Services, *, email: str | None, provider: str | None, browser: str | None, client_key: str
) -> Started:
    chosen = choose(svc, email=email, provider=provider)
    await svc.reserve("sso-address", client_key, message="too many sign-ins started from here")
    meta = await client(svc, chosen).metadata()
    if not browser or len(browser) != 43:
        browser = secrets.token_urlsafe(32)
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    now = utcnow()
    async with svc.db.write() as tx:
        await store.prune(tx.session, now)  # finished-or-abandoned rows go on the next start: no sweeper needed
        tx.session.add(
            SsoAttempt(
                state_digest=digest(state),
                provider=chosen.name,
                nonce=nonce,
                code_verifier=verifier,
                browser_digest=digest(browser),
                expires_at=now + timedelta(seconds=ATTEMPT_TTL_S),
            )
        )
    query: dict[str, str] = {
        "response_type": "code",
        "client_id": chosen.client_id,
        "redirect_uri": redirect_uri(svc),
        "scope": " ".join(chosen.scopes),
        "state": state,  # RFC 6749 section 10.12: binds the answer to this request (no login CSRF)
        "nonce": nonce,  # OIDC Core section 3.1.2.1: binds the ID token to this sign-in (no replay)
        "code_challenge": _pkce_challenge(verifier),  # RFC 7636: a stolen code is useless without the verifier
        "code_challenge_method": "S256",
    }
    if email:
        query["login_hint"] = email.strip().lower()
    endpoint = str(meta["authorization_endpoint"])
    return Started(endpoint + ("&" if "?" in endpoint else "?") + urlencode(query), browser)


async def _claims(c: ProviderClient, answer: dict[str, Any], nonce: str) -> IdentityClaims:
    claims = await c.verify_id_token(str(answer["id_token"]), nonce=nonce)
    found = identity(claims)
    access_token = answer.get("access_token")
    if (found.email is None or "email_verified" not in claims) and isinstance(access_token, str):
        # Many providers put e-mail claims only in UserInfo for the code flow (oidc-provider does by default).
        info = await c.userinfo(access_token)
        if info is not None:
            # OIDC Core section 5.3.2: UserInfo's sub must be the ID token's, or the answer is not about this user.
            if info.get("sub") != claims["sub"]:
                raise ProviderError("the provider's UserInfo answer is about another user (sub)")
            merged: dict[str, Any] = dict(claims)
            merged.update((k, info[k]) for k in ("email", "email_verified", "name") if k in info)
            found = identity(merged)
    return found


async def finish(
    svc: Services,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    browser: str | None,
    issuer: str | None = None,
) -> str:
    """The ticket for the page, or a domain error (the HTTP layer puts its code and message in the redirect)."""
    if not state or len(state) > 200:
        raise BadInputError("state", "the sign-in answer has no state; start signing in again")
    now = utcnow()
    async with svc.db.write() as tx:
        attempt = await store.take_attempt(tx.session, digest(state), now)
    if attempt is None:
        raise UnauthenticatedError("this sign-in is unknown, expired or already finished; start signing in again")
    # The browser that comes back must be the one that started (a callback URL sent to someone else — login
    # CSRF, RFC 6749 section 10.12 — lands in a browser without the cookie).
    if not browser or not hmac.compare_digest(digest(browser).encode(), attempt.browser_digest.encode()):
        raise UnauthenticatedError("this sign-in was started in another browser; start signing in again here")
    provider = provider_named(svc.settings.oidc_providers, attempt.provider)
    if provider is None:
        raise NotFoundError("the identity provider of this sign-in is no longer configured")
    name = provider.label or provider.name
    if issuer is not None and issuer != provider.issuer:
        # RFC 9207 section 2.4: the answer names the provider that sent it; another one than we sent the browser
        # to is a mix-up attack (one provider's code replayed against another).
        raise UnauthenticatedError(f"the sign-in answer comes from another provider than {name}; start again")
    if error:
        # RFC 6749 section 4.1.2.1: the provider says why (access_denied, login_required, ...).
        raise UnauthenticatedError(f"{name} did not sign you in ({error[:64]})")
    if not code or len(code) > 2000:
        raise BadInputError("code", "the sign-in answer has no code; start signing in again")
    c = client(svc, provider)
    answer = await c.exchange_code(code, code_verifier=attempt.code_verifier, redirect_uri=redirect_uri(svc))
    try:
        claims = await _claims(c, answer, attempt.nonce)
    except IdTokenError as exc:
        log.warning("sso: %s sent an ID token we refuse: %s", provider.name, exc)
        raise UnauthenticatedError(f"{name}'s answer could not be trusted: {exc}") from None
    user = await _account(svc, provider, claims)
    await audit.signed_in(svc.db, user)
    ticket = secrets.token_urlsafe(32)
    async with svc.db.write() as tx:
        tx.session.add(
            SsoTicket(digest=digest(ticket), user_id=user.id, expires_at=now + timedelta(seconds=TICKET_TTL_S))
        )
    return ticket


async def _account(svc: Services, provider: OidcProvider, claims: IdentityClaims) -> User:
    now = utcnow()
    user: User | None
    try:
        async with svc.db.write() as tx:
            linked = await store.identity(tx.session, claims.issuer, claims.subject)
            by_email = await store.user_by_email(tx.session, claims.email) if claims.email else None
            decision = linking.decide(
                provider,
                claims,
                linked_user_id=linked.user_id if linked else None,
                email_user_id=by_email.id if by_email else None,
            )
            match decision:
                case linking.Refuse(reason):
                    raise ForbiddenError(reason)  # nothing was written: the transaction rolls back empty
                case linking.SignIn(user_id):
                    if linked is not None:
                        linked.last_sign_in_at, linked.email = now, claims.email
                    user = await tx.session.get(User, user_id)
                case linking.Link(user_id, email):
                    tx.session.add(_identity(provider, claims, user_id, now))
                    user = by_email
                    log.info("sso: a %s identity was linked to the existing account %s", provider.name, user_id)
                case linking.Create(email, display_name):
                    user = User(id=new_id(), email=email, display_name=display_name, password_hash=None)
                    tx.session.add(user)
                    await tx.session.flush()  # the user row first: the identity's foreign key points at it
                    tx.session.add(_identity(provider, claims, user.id, now))
    except IntegrityError as exc:  # a concurrent first sign-in of the same person won the race
        raise ConflictError("this account was just set up by another sign-in; sign in again") from exc
    if user is None:
        raise UnauthenticatedError("this account no longer exists")
    return user


def _identity(provider: OidcProvider, claims: IdentityClaims, user_id: str, now: datetime) -> UserIdentity:
    return UserIdentity(
        id=new_id(),
        user_id=user_id,
        provider=provider.name,
        issuer=claims.issuer,
        subject=claims.subject,
        email=claims.email,
        created_at=now,
        last_sign_in_at=now,
    )


async def redeem(svc: Services, ticket: str) -> Session:
    if not ticket or len(ticket) > 100:
        raise BadInputError("ticket", "ticket must be the value the sign-in page was given")
    async with svc.db.write() as tx:
        user_id = await store.take_ticket(tx.session, digest(ticket), utcnow())
        user = await tx.session.get(User, user_id) if user_id else None
    if user is None:
        raise UnauthenticatedError("this sign-in ticket is unknown, expired or already used; sign in again")
    return await issue_session(svc.db, svc.creds, user)
