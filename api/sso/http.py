"""The browser's side of single sign-on, over plain HTTP (top-level navigations, no JavaScript needed):

- ``GET /auth/sso/start?email=…`` (or ``?provider=<name>``): sends the browser to the provider that serves the
  address's domain, after setting a cookie that binds the sign-in to this browser.
- ``GET /auth/sso/callback?code=…&state=…``: where the provider sends it back (the redirect URI to register
  at the provider is ``<API_PUBLIC_URL>/auth/sso/callback``).

Both end on the landing page: ``/#sso_ticket=<ticket>`` on success (the page trades it for tokens with the
GraphQL mutation ``redeemSsoTicket``) or ``/#sso_error=<CODE>&sso_message=<text>``. The fragment never reaches
a server log or a Referer header.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.datastructures import Cookie
from litestar.response import Redirect

from api.client_address import of_connection
from api.errors import AppError
from api.services import Services
from api.sso import service

log = logging.getLogger("meetmesh.sso")

COOKIE = "mm_sso_browser"
_NO_STORE = {"cache-control": "no-store", "referrer-policy": "no-referrer"}


def _services(request: Request[Any, Any, Any]) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _to_landing(fragment: dict[str, str], cookies: list[Cookie] | None = None) -> Redirect:
    return Redirect("/#" + urlencode(fragment), status_code=303, headers=_NO_STORE, cookies=cookies or [])


def _failed(exc: Exception, where: str) -> Redirect:
    if isinstance(exc, AppError):
        log.info("sso %s refused: %s %s", where, exc.code.value, exc.message)
        return _to_landing({"sso_error": exc.code.value, "sso_message": exc.message})
    log.exception("sso %s failed", where)
    return _to_landing({"sso_error": "INTERNAL", "sso_message": "signing in failed on our side; it has been logged"})


@get("/auth/sso/start", include_in_schema=False)
async def sso_start(
    request: Request[Any, Any, Any], email: str | None = None, provider: str | None = None
) -> Response[Any]:
    svc = _services(request)
    try:
        started = await service.start(
            svc,
            email=email,
            provider=provider,
            browser=request.cookies.get(COOKIE),
            client_key=of_connection(request, svc.settings.trusted_proxies),
        )
    except Exception as exc:  # the boundary: every failure becomes a message on the landing page
        return _failed(exc, "start")
    cookie = Cookie(
        key=COOKIE,
        value=started.browser,
        path="/auth/sso",
        max_age=service.ATTEMPT_TTL_S,
        httponly=True,
        secure=svc.settings.base_url.startswith("https://"),
        # Lax: sent on the provider's top-level GET redirect back to us, never on cross-site subrequests.
        samesite="lax",
    )
    return Redirect(started.authorization_url, status_code=303, headers=_NO_STORE, cookies=[cookie])


@get("/auth/sso/callback", include_in_schema=False)
async def sso_callback(request: Request[Any, Any, Any]) -> Response[Any]:
    # Read by hand: ``state`` is a reserved parameter name in Litestar (the application state).
    query = request.query_params
    try:
        ticket = await service.finish(
            _services(request),
            state=query.get("state"),
            code=query.get("code"),
            error=query.get("error"),
            issuer=query.get("iss"),
            browser=request.cookies.get(COOKIE),
        )
    except Exception as exc:  # the boundary, as above
        return _failed(exc, "callback")
    return _to_landing({"sso_ticket": ticket})


ROUTES = [sso_start, sso_callback]
