"""Who is asking, for the audit log: the client address and bearer identity of the current HTTP request or
WebSocket, in a context variable set by one ASGI middleware.

Services learn their caller as a ``Principal`` argument, but the audit hook runs deep inside ``Tx.emit`` and the
sign-in code, which have no request; a context variable reaches them without changing any signature. Tasks
started while serving (Strawberry runs each WebSocket operation in one) copy it.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

from api.errors import UnauthenticatedError
from api.security import Principal


@dataclass(frozen=True, slots=True)
class Caller:
    address: str | None
    principal: Principal | None
    """From the Authorization header, when valid (WebSocket callers authenticate later, in their payload)."""


current: ContextVar[Caller | None] = ContextVar("meetmesh_caller", default=None)
"""None outside requests (background tasks: the sweepers, recording processing)."""


def caller() -> Caller | None:
    return current.get()


def identify(principal: Principal) -> None:
    """The caller turned out to be ``principal`` after the middleware ran: an API key (api/apikeys) needs the
    database, which this middleware does not touch. Later audit rows of this request name them."""
    c = current.get()
    if c is not None:
        current.set(Caller(address=c.address, principal=principal))


def _principal(scope: Scope) -> Principal | None:
    raw = None
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            raw = value.decode("latin-1")
            break
    if not raw:
        return None
    scheme, _, token = raw.partition(" ")
    token = token.strip() if scheme.lower() == "bearer" and token else raw.strip()
    try:
        services: Any = scope["app"].state.services
        return services.creds.principal_from_bearer(token)  # type: ignore[no-any-return]
    except (UnauthenticatedError, AttributeError, KeyError):
        return None


def caller_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)
            return
        client = scope.get("client")
        token = current.set(Caller(address=client[0] if client else None, principal=_principal(scope)))
        try:
            await app(scope, receive, send)
        finally:
            current.reset(token)

    return middleware
