"""api/sso/providers.py: API_OIDC_PROVIDERS parsing (typos stop the start) and the domain map."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.settings import Settings
from api.sso.providers import check_url, parse_providers, provider_for_email, provider_named


def _entry(**changes: Any) -> dict[str, Any]:
    base = {
        "name": "acme",
        "issuer": "https://id.acme.test",
        "client_id": "meetmesh",
        "client_secret": "s3cret",
        "domains": ["Acme.test", "acme.example"],
    }
    return {**base, **changes}


def test_parse_and_map() -> None:
    other = _entry(name="globex", issuer="https://login.globex.test", domains=["globex.test"], label="Globex SSO")
    providers = parse_providers(json.dumps([_entry(), other]))
    assert providers[0].domains == ("acme.test", "acme.example")
    assert providers[0].scopes == ("openid", "email", "profile")
    assert provider_for_email(providers, "ann@ACME.test") is providers[0]
    assert provider_for_email(providers, "bo@globex.test") is providers[1]
    assert provider_for_email(providers, "bo@sub.globex.test") is None
    assert provider_named(providers, "globex") is providers[1] and provider_named(providers, "x") is None
    assert providers[0].discovery_url == "https://id.acme.test/.well-known/openid-configuration"
    assert parse_providers("") == () and parse_providers("  ") == ()


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("{not json", "JSON"),
        (json.dumps({"name": "acme"}), "list"),
        (json.dumps([_entry(name="Acme Corp")]), "name"),
        (json.dumps([_entry(issuer="http://id.acme.test")]), "https"),
        (json.dumps([_entry(issuer="ftp://127.0.0.1")]), "https"),
        (json.dumps([_entry(client_secret="")]), "client_secret"),
        (json.dumps([_entry(domains=[])]), "domains"),
        (json.dumps([_entry(domains=["not a domain"])]), "not a domain"),
        (json.dumps([_entry(scopes=["email"])]), "openid"),
        (json.dumps([_entry(), _entry()]), "twice"),
        (json.dumps([_entry(), _entry(name="other", domains=["acme.test"])]), "belongs to"),
    ],
)
def test_mistakes_stop_the_start(raw: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_providers(raw)


def test_http_only_on_loopback() -> None:
    assert (
        check_url("x", "http://127.0.0.1:8080")
        and check_url("x", "http://localhost:1")
        and check_url("x", "http://[::1]:2")
    )
    with pytest.raises(ValueError):
        check_url("x", "http://10.0.0.1")


def test_settings_read_the_variable() -> None:
    settings = Settings.from_env({"API_OIDC_PROVIDERS": json.dumps([_entry()])})
    assert [p.name for p in settings.oidc_providers] == ["acme"]
    with pytest.raises(ValueError, match="API_OIDC_PROVIDERS"):
        Settings.from_env({"API_OIDC_PROVIDERS": "[1]"})
