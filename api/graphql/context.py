"""Per-request GraphQL context: services plus the caller, read from the Authorization header (HTTP) or the
``connection_init`` payload (WebSocket: ``{"authorization": "Bearer …"}``)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.litestar.controller import BaseContext

from api.client_address import of_connection
from api.security import Principal
from api.services import Services


class Context(BaseContext, kw_only=True):
    services: Services
    connection_params: dict[str, Any] | None = None
    principal_cache: Any = None
    principal_resolved: bool = False
    key_error: Any = None
    """Why an API key was refused (api/apikeys/guard.py): every resolver that asks for the caller meets it."""

    def bearer(self) -> str | None:
        raw: str | None = None
        if self.request is not None:
            raw = self.request.headers.get("authorization")
        elif self.connection_params:
            value = self.connection_params.get("authorization") or self.connection_params.get("Authorization")
            raw = value if isinstance(value, str) else None
        if not raw:
            return None
        scheme, _, token = raw.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token else raw.strip()

    @property
    def principal(self) -> Principal | None:
        """The caller, or None when anonymous. A present but invalid token raises UNAUTHENTICATED."""
        if self.key_error is not None:
            raise self.key_error
        if not self.principal_resolved:
            token = self.bearer()
            self.principal_cache = self.services.creds.principal_from_bearer(token) if token else None
            self.principal_resolved = True
        return self.principal_cache  # type: ignore[no-any-return]

    @property
    def client_key(self) -> str:
        """The caller's address as per-client limits see it (``API_TRUSTED_PROXIES``: api/client_address.py)."""
        conn = self.request or self.websocket
        return of_connection(conn, self.services.settings.trusted_proxies) if conn is not None else "unknown"


def ctx(info: strawberry.Info) -> Context:
    return info.context  # type: ignore[no-any-return]
