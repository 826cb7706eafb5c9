"""Who calls /api/v1: ``Authorization: Bearer <token>`` with an API key (``mmk1.…``, api/apikeys) or a user's
access token. A key is rate-limited and narrowed to its scopes; a session may do what its account may."""

from __future__ import annotations

from typing import Any

from litestar import Request

from api.apikeys import scopes, service
from api.errors import UnauthenticatedError
from api.privacy.service import user_exists
from api.security import Principal, UserPrincipal
from api.services import Services


def services(request: Request[Any, Any, Any]) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _bearer(request: Request[Any, Any, Any]) -> str | None:
    raw = request.headers.get("authorization")
    if not raw:
        return None
    scheme, _, token = raw.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError("send Authorization: Bearer <API key or access token>")
    return token.strip()


async def caller(request: Request[Any, Any, Any], scope: str) -> Principal:
    """The authenticated caller, allowed ``scope``; UNAUTHENTICATED / FORBIDDEN / RATE_LIMITED otherwise."""
    svc = services(request)
    token = _bearer(request)
    if token is None:
        raise UnauthenticatedError("send Authorization: Bearer <API key or access token>")
    principal: Principal
    if service.looks_like_key(token):
        principal = await service.authenticate(svc, token)  # takes the key's rate limit first
    else:
        principal = svc.creds.principal_from_bearer(token)
        # As on /graphql (api/privacy/liveness.py): a deleted account's tokens stop working at once.
        if isinstance(principal, UserPrincipal) and not await user_exists(svc, principal.user_id):
            raise UnauthenticatedError("this account no longer exists")
    scopes.require(principal, scope)
    return principal


def owner(principal: Principal) -> str:
    """Whose Idempotency-Keys these are: each key, each account, each guest has its own."""
    if isinstance(principal, UserPrincipal):
        return f"key:{principal.key_id}" if principal.key_id else f"user:{principal.user_id}"
    return f"guest:{principal.guest_id}"
