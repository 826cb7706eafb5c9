"""Bearer tokens: a checked token's claims are kept, but expiry, forgery and the table's size still hold."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from api import security
from api.errors import UnauthenticatedError
from api.security import Credentials, GuestPrincipal, UserPrincipal
from api.settings import Settings


def _creds(tmp_path: Path, **overrides: object) -> Credentials:
    return Credentials(Settings(data_dir=tmp_path, secret_key="unit-test-secret", **overrides))  # type: ignore[arg-type]


def test_a_token_checked_once_is_still_refused_once_it_expires(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = _creds(tmp_path, access_token_ttl_s=60)
    token = creds.access_token("user-1")
    assert creds.principal_from_bearer(token) == UserPrincipal(user_id="user-1")
    assert creds.principal_from_bearer(token) == UserPrincipal(user_id="user-1")  # from the table now
    later = time.time() + 61
    monkeypatch.setattr(security.time, "time", lambda: later)
    with pytest.raises(UnauthenticatedError, match="expired"):
        creds.principal_from_bearer(token)


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: t + "x",
        lambda t: t.split(".")[0] + "." + t.split(".")[1] + ".",  # signature dropped
        lambda t: jwt.encode({"typ": "access", "sub": "admin", "exp": int(time.time()) + 60}, "guess", "HS256"),
        lambda t: jwt.encode({"typ": "access", "sub": "admin", "exp": int(time.time()) + 60}, None, "none"),
    ],
)
def test_tokens_near_a_known_one_are_checked_not_looked_up(tmp_path: Path, forge: object) -> None:
    creds = _creds(tmp_path)
    token = creds.access_token("user-1")
    creds.principal_from_bearer(token)
    with pytest.raises(UnauthenticatedError):
        creds.principal_from_bearer(forge(token))  # type: ignore[operator]


def test_guest_tokens_keep_their_name_and_client(tmp_path: Path) -> None:
    creds = _creds(tmp_path)
    token = creds.guest_token("guest-1", "Ada", client_id="c" * 20)
    for _ in range(2):
        assert creds.principal_from_bearer(token) == GuestPrincipal("guest-1", "Ada", "c" * 20)


def test_the_table_of_checked_tokens_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "VERIFIED_TOKENS_KEPT", 50)
    creds = _creds(tmp_path)
    tokens = [creds.access_token(f"user-{n}") for n in range(120)]
    for n, token in enumerate(tokens):
        assert creds.principal_from_bearer(token) == UserPrincipal(user_id=f"user-{n}")
        assert len(creds._verified) <= 50
    # Forged tokens are never kept.
    for n in range(100):
        with pytest.raises(UnauthenticatedError):
            creds.principal_from_bearer(f"forged.{n}.x")
    assert len(creds._verified) <= 50


def test_sealed_secrets_open_only_for_their_row_purpose_and_deployment(tmp_path: Path) -> None:
    creds = _creds(tmp_path)
    sealed = creds.seal_secret("calendar-connection", "conn-1", "app password")
    assert "app password" not in sealed and sealed != creds.seal_secret("calendar-connection", "conn-1", "app password")
    assert creds.open_secret("calendar-connection", "conn-1", sealed) == "app password"
    assert creds.open_secret("calendar-connection", "conn-2", sealed) is None  # copied to another row
    assert creds.open_secret("another-purpose", "conn-1", sealed) is None
    assert creds.open_secret("calendar-connection", "conn-1", "not base64 at all!") is None
    other = Credentials(Settings(data_dir=tmp_path, secret_key="another-deployment"))
    assert other.open_secret("calendar-connection", "conn-1", sealed) is None
