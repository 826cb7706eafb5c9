"""Configured OpenID providers (``API_OIDC_PROVIDERS``) and which one an e-mail address signs in with.

Stdlib only: settings parse this at start-up, so a typo stops the start instead of failing the first log-in.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")
DEFAULT_SCOPES = ("openid", "email", "profile")


@dataclass(frozen=True, slots=True)
class OidcProvider:
    name: str
    """Short id in URLs (``/auth/sso/start?provider=<name>``) and in the database: ``[a-z0-9-]``, up to 32."""
    issuer: str
    """The issuer identifier: must equal the discovery document's ``issuer`` and every ID token's ``iss``."""
    client_id: str
    client_secret: str
    domains: tuple[str, ...]
    """E-mail domains this provider is authoritative for: people typing such an address are sent here, and the
    provider may only sign in addresses of these domains (it cannot vouch for anyone else's mailbox)."""
    label: str = ""
    """What the sign-in button says (``Sign in with <label>``); the name when empty."""
    scopes: tuple[str, ...] = DEFAULT_SCOPES

    @property
    def discovery_url(self) -> str:
        # OpenID Connect Discovery 1.0 section 4: the issuer with /.well-known/openid-configuration appended.
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def owns(self, email: str) -> bool:
        return email.rsplit("@", 1)[-1].lower() in self.domains


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(what: str, url: str) -> str:
    """An https URL, or http on loopback (a provider on the same machine, as in tests); else ValueError.
    OIDC Core section 3.1.2.1 requires TLS for the authorization endpoint; Discovery section 3 for the issuer."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return url
    raise ValueError(f"{what} must be an https URL (http only on loopback) (got {url!r})")


def _text(entry: dict[str, object], key: str, index: int, *, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"API_OIDC_PROVIDERS[{index}].{key} must be a non-empty string (got {value!r})")
    return value.strip()


def parse_providers(raw: str) -> tuple[OidcProvider, ...]:
    """``API_OIDC_PROVIDERS``: a JSON list of ``{"name", "issuer", "client_id", "client_secret", "domains",
    "label"?, "scopes"?}``. Empty: single sign-on is off."""
    if not raw.strip():
        return ()
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"API_OIDC_PROVIDERS must be a JSON list ({exc.msg} at {exc.pos})") from None
    if not isinstance(entries, list):
        raise ValueError("API_OIDC_PROVIDERS must be a JSON list of providers")
    out: list[OidcProvider] = []
    owner: dict[str, str] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"API_OIDC_PROVIDERS[{i}] must be an object")
        name = _text(entry, "name", i)
        if not _NAME.fullmatch(name):
            raise ValueError(f"API_OIDC_PROVIDERS[{i}].name must be [a-z0-9-], up to 32 characters (got {name!r})")
        if any(p.name == name for p in out):
            raise ValueError(f"API_OIDC_PROVIDERS: the name {name!r} is used twice")
        domains = entry.get("domains")
        if not isinstance(domains, list) or not domains:
            raise ValueError(f"API_OIDC_PROVIDERS[{i}].domains must be a non-empty list of e-mail domains")
        clean: list[str] = []
        for d in domains:
            d = str(d).strip().lower()
            if not _DOMAIN.fullmatch(d):
                raise ValueError(f"API_OIDC_PROVIDERS[{i}].domains: {d!r} is not a domain name")
            if d in owner:  # one address, one provider: otherwise which IdP may vouch for it is ambiguous
                raise ValueError(f"API_OIDC_PROVIDERS: the domain {d!r} belongs to {owner[d]!r} and {name!r}")
            owner[d] = name
            clean.append(d)
        scopes = entry.get("scopes", list(DEFAULT_SCOPES))
        if not isinstance(scopes, list) or "openid" not in scopes or not all(isinstance(s, str) for s in scopes):
            raise ValueError(f"API_OIDC_PROVIDERS[{i}].scopes must be a list of strings including 'openid'")
        out.append(
            OidcProvider(
                name=name,
                issuer=check_url(f"API_OIDC_PROVIDERS[{i}].issuer", _text(entry, "issuer", i)),
                client_id=_text(entry, "client_id", i),
                client_secret=_text(entry, "client_secret", i),
                domains=tuple(clean),
                label=_text(entry, "label", i, required=False),
                scopes=tuple(scopes),
            )
        )
    return tuple(out)


def provider_for_email(providers: tuple[OidcProvider, ...], email: str) -> OidcProvider | None:
    """The provider an address signs in with (its domain, exactly: ``a@sub.acme.test`` is not ``acme.test``)."""
    for p in providers:
        if p.owns(email):
            return p
    return None


def provider_named(providers: tuple[OidcProvider, ...], name: str) -> OidcProvider | None:
    for p in providers:
        if p.name == name:
            return p
    return None
