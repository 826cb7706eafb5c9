"""Single sign-on against a real OpenID provider (the certified npm ``oidc-provider``, started by the test):
the whole authorization code flow over HTTP through the provider's own login and consent pages, and every way
it must fail — a wrong state, a replayed code or callback, another browser, a wrong nonce, a changed PKCE
challenge, a tampered ID token — plus the linking rules and just-in-time accounts (docs/sso.md)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import secrets
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import func, select

from api.services import Services
from api.sso.id_token import IdTokenError
from api.sso.provider_client import ProviderClient
from api.sso.providers import OidcProvider
from dbschema.models import User
from dbschema.sso import UserIdentity
from tests.conftest import RunningServer, make_settings
from tests.support.gql import Client
from tests.support.oidc_provider import Browser, LocalProvider, configured, landing_fragment, signing_key
from tests.support.oidc_provider import Client as OidcClient
from tests.support.world import Person, World

API_CLIENT = OidcClient("meetmesh", secrets.token_urlsafe(24), [])
RP_CLIENT = OidcClient("test-rp", secrets.token_urlsafe(24), ["http://127.0.0.1:9/cb"])
"""A second relying party: the test itself, to hold real ID tokens of this provider in its hands."""

ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {"email": "alice@acme.test", "email_verified": True, "name": "Alice Example"},
    "pat": {"email": "pat@acme.test", "email_verified": True, "name": "Pat"},
    "dave": {"email": "dave@acme.test", "email_verified": True, "name": "Dave (IdP)"},
    "carol-unverified": {"email": "carol@acme.test", "email_verified": False, "name": "Not Carol"},
    "erin-unverified": {"email": "erin@acme.test", "email_verified": False, "name": "Erin"},
    "outsider": {"email": "someone@elsewhere.test", "email_verified": True, "name": "Outsider"},
    "no-email": {"name": "Nobody"},
    "rota": {"email": "rota@acme.test", "email_verified": True, "name": "Rota"},
    "host": {"email": "host@acme.test", "email_verified": True, "name": "Acme Host"},
    "member": {"email": "member@acme.test", "email_verified": True, "name": "Acme Member"},
    "exporter": {"email": "exporter@acme.test", "email_verified": True, "name": "Exporter"},
    **{f"user{i}": {"email": f"user{i}@acme.test", "email_verified": True, "name": f"User {i}"} for i in range(10)},
}

REDEEM = "mutation($t: String!) { redeemSsoTicket(ticket: $t) { accessToken user { id email displayName } } }"
ME = "{ me { id email displayName } }"
LOG_IN = "mutation($i: LogInInput!) { logIn(input: $i) { user { id } } }"
SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { user { id } } }"


class Env:
    def __init__(self, server: RunningServer, idp: LocalProvider, http: httpx.AsyncClient) -> None:
        self.server, self.idp, self.http = server, idp, http

    @property
    def services(self) -> Services:
        return self.server.app.state.services  # type: ignore[no-any-return]

    def browser(self, login: str) -> Browser:
        # Its own cookie jar, as a separate browser has.
        return Browser(httpx.AsyncClient(timeout=30), self.server.url, login)

    @property
    def anon(self) -> Client:
        return Client(self.server.url, self.http)

    async def count(self, model: Any, *where: Any) -> int:
        async with self.services.db.read() as session:
            return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())

    async def password_account(self, email: str, password: str) -> str:
        """An account made before single sign-on was set up for its domain (sign-up refuses such addresses now)."""
        user = User(
            id=secrets.token_hex(8),
            email=email,
            display_name="Has A Password",
            password_hash=self.services.creds.hash_secret(password),
        )
        async with self.services.db.write() as tx:
            tx.session.add(user)
        return user.id


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    url = request.getfixturevalue("pg_database") if request.param == "postgres" else ""
    settings = make_settings(tmp_path_factory.mktemp(f"sso-{request.param}"), url)
    api_client = OidcClient(API_CLIENT.client_id, API_CLIENT.client_secret, [settings.base_url + "/auth/sso/callback"])
    idp = LocalProvider(clients=[api_client, RP_CLIENT], accounts=ACCOUNTS)
    idp.start()
    try:  # the provider is stopped even when the API fails to start
        settings = make_settings(settings.data_dir, url, port=settings.port, oidc_providers=configured(idp, api_client))
        server = RunningServer(settings)
        await server.start()
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                yield Env(server, idp, http)
        finally:
            await server.stop()
    finally:
        idp.stop()


async def _redeem(env: Env, fragment: dict[str, str]) -> dict[str, Any]:
    assert "sso_ticket" in fragment, fragment
    return (await env.anon(REDEEM, t=fragment["sso_ticket"]))["redeemSsoTicket"]  # type: ignore[no-any-return]


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


async def test_first_sign_in_creates_the_account_then_signs_in_to_it(env: Env) -> None:
    alice = env.browser("alice")
    signed = await _redeem(env, await alice.sign_in("Alice@Acme.test"))
    user = signed["user"]
    assert (user["email"], user["displayName"]) == ("alice@acme.test", "Alice Example")
    me = (await env.anon.with_token(signed["accessToken"])(ME))["me"]
    assert me["id"] == user["id"]
    async with env.services.db.read() as session:
        row = await session.get(User, user["id"])
    assert row is not None and row.password_hash is None  # just in time, without a password
    # Again (a new browser, so a new login at the provider): the same account, through the same identity.
    again = await _redeem(env, await env.browser("alice").sign_in("alice@acme.test"))
    assert again["user"]["id"] == user["id"]
    assert await env.count(UserIdentity, UserIdentity.user_id == user["id"]) == 1


async def test_a_ticket_works_once(env: Env) -> None:
    fragment = await env.browser("user0").sign_in("user0@acme.test")
    await _redeem(env, fragment)
    err = await env.anon.error(REDEEM, t=fragment["sso_ticket"])
    assert err.code == "UNAUTHENTICATED" and "already used" in str(err)


async def test_password_log_in_to_a_single_sign_on_account_says_so(env: Env) -> None:
    await _redeem(env, await env.browser("pat").sign_in("pat@acme.test"))
    err = await env.anon.error(LOG_IN, i={"email": "pat@acme.test", "password": "whatever-it-is"})
    assert err.code == "UNAUTHENTICATED" and "single sign-on" in str(err)
    # And no password account can be made for the provider's domain (it would be pre-hijackable).
    err = await env.anon.error(SIGN_UP, i={"email": "new@acme.test", "password": "long enough", "displayName": "N"})
    assert (err.code, err.field) == ("FORBIDDEN", "email") and "company account" in str(err)


async def test_a_verified_address_links_the_existing_account(env: Env) -> None:
    existing = await env.password_account("dave@acme.test", "dave's password")
    signed = await _redeem(env, await env.browser("dave").sign_in("dave@acme.test"))
    assert signed["user"]["id"] == existing
    assert signed["user"]["displayName"] == "Has A Password"  # the account's own name is kept
    assert await env.count(UserIdentity, UserIdentity.user_id == existing) == 1
    logged = await env.anon(LOG_IN, i={"email": "dave@acme.test", "password": "dave's password"})
    assert logged["logIn"]["user"]["id"] == existing  # the password still works


async def test_an_unverified_address_never_takes_over_an_account(env: Env) -> None:
    existing = await env.password_account("carol@acme.test", "carol's password")
    fragment = await env.browser("carol-unverified").sign_in("carol@acme.test")
    assert fragment["sso_error"] == "FORBIDDEN" and "not verified" in fragment["sso_message"]
    assert await env.count(UserIdentity, UserIdentity.user_id == existing) == 0
    assert await env.count(UserIdentity, UserIdentity.subject == "carol-unverified") == 0


async def test_an_unverified_address_gets_no_new_account(env: Env) -> None:
    fragment = await env.browser("erin-unverified").sign_in("erin@acme.test")
    assert fragment["sso_error"] == "FORBIDDEN" and "not verified" in fragment["sso_message"]
    assert await env.count(User, User.email == "erin@acme.test") == 0


async def test_the_provider_cannot_vouch_for_another_domain(env: Env) -> None:
    # The person types an acme.test address but their provider account says elsewhere.test.
    fragment = await env.browser("outsider").sign_in("someone@acme.test")
    assert fragment["sso_error"] == "FORBIDDEN" and "elsewhere.test" in fragment["sso_message"]
    assert await env.count(User, User.email == "someone@elsewhere.test") == 0
    fragment = await env.browser("no-email").sign_in("nobody@acme.test")
    assert fragment["sso_error"] == "FORBIDDEN" and "e-mail" in fragment["sso_message"]


async def test_an_address_without_a_provider_is_told_so(env: Env) -> None:
    r = await env.browser("alice").start("bob@unknown.test")
    fragment = landing_fragment(r)
    assert fragment["sso_error"] == "NOT_FOUND" and "unknown.test" in fragment["sso_message"]
    fragment = landing_fragment(await env.browser("alice").start("not an address"))
    assert fragment["sso_error"] == "BAD_INPUT"
    providers = (await env.anon("{ ssoProviders { name label } }"))["ssoProviders"]
    assert providers == [{"name": "acme", "label": "Acme ID"}]


async def test_a_wrong_state_is_refused_and_the_right_one_still_works(env: Env) -> None:
    b = env.browser("user1")
    callback = await b.at_provider((await b.start("user1@acme.test")).headers["location"])
    wrong = await b.back(_with_query(callback, state=secrets.token_urlsafe(32)))
    assert wrong["sso_error"] == "UNAUTHENTICATED"
    assert "ticket" not in wrong
    await _redeem(env, await b.back(callback))


async def test_a_callback_replayed_or_a_code_reused_is_refused(env: Env) -> None:
    b = env.browser("user2")
    callback = await b.at_provider((await b.start("user2@acme.test")).headers["location"])
    await _redeem(env, await b.back(callback))
    # The same answer again: its state was used up.
    replay = await b.back(callback)
    assert replay["sso_error"] == "UNAUTHENTICATED" and "already finished" in replay["sso_message"]
    # The used code under a fresh sign-in's state: the state passes, the provider refuses the code itself.
    fresh = (await b.start("user2@acme.test")).headers["location"]
    state = parse_qs(urlsplit(fresh).query)["state"][0]
    reused = await b.back(_with_query(callback, state=state))
    assert reused["sso_error"] == "UNAUTHENTICATED" and "invalid_grant" in reused["sso_message"]
    assert "grant.error" in env.idp.log()


async def test_two_callbacks_at_once_with_one_state_give_one_sign_in(env: Env) -> None:
    b = env.browser("user8")
    callback = await b.at_provider((await b.start("user8@acme.test")).headers["location"])
    both = await asyncio.gather(b.back(callback), b.back(callback))
    assert sorted("sso_ticket" in f for f in both) == [False, True], both
    [refused] = [f for f in both if "sso_error" in f]
    assert refused["sso_error"] == "UNAUTHENTICATED"


async def test_a_callback_in_another_browser_is_refused(env: Env) -> None:
    b = env.browser("user3")
    callback = await b.at_provider((await b.start("user3@acme.test")).headers["location"])
    # Login CSRF: someone else's browser (no binding cookie) is sent the finished sign-in.
    other = await env.browser("user3").back(callback)
    assert other["sso_error"] == "UNAUTHENTICATED" and "another browser" in other["sso_message"]


async def test_an_id_token_with_another_nonce_is_refused(env: Env) -> None:
    b = env.browser("user4")
    authorize = (await b.start("user4@acme.test")).headers["location"]
    # The provider signs whatever nonce the request carries: ours was swapped on the way.
    callback = await b.at_provider(_with_query(authorize, nonce=secrets.token_urlsafe(32)))
    fragment = await b.back(callback)
    assert fragment["sso_error"] == "UNAUTHENTICATED" and "nonce" in fragment["sso_message"]
    assert await env.count(User, User.email == "user4@acme.test") == 0


async def test_a_changed_pkce_challenge_makes_the_code_useless(env: Env) -> None:
    b = env.browser("user5")
    authorize = (await b.start("user5@acme.test")).headers["location"]
    # An attacker's challenge: the code is bound to it, and our verifier does not match (RFC 7636 section 4.6).
    callback = await b.at_provider(_with_query(authorize, code_challenge=_challenge(secrets.token_urlsafe(64))))
    fragment = await b.back(callback)
    assert fragment["sso_error"] == "UNAUTHENTICATED" and "invalid_grant" in fragment["sso_message"]


async def test_the_provider_saying_no_is_shown(env: Env) -> None:
    b = env.browser("user6")
    state = parse_qs(urlsplit((await b.start("user6@acme.test")).headers["location"]).query)["state"][0]
    r = await b.http.get(env.server.url + "/auth/sso/callback", params={"state": state, "error": "access_denied"})
    fragment = landing_fragment(r)
    assert fragment["sso_error"] == "UNAUTHENTICATED" and "access_denied" in fragment["sso_message"]


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


async def _real_id_token(env: Env, login: str, nonce: str) -> str:
    """An ID token the provider issued to the test's own client (a second relying party)."""
    meta = (await env.http.get(env.idp.issuer + "/.well-known/openid-configuration")).json()
    verifier = secrets.token_urlsafe(64)
    query = {
        "response_type": "code",
        "client_id": RP_CLIENT.client_id,
        "redirect_uri": RP_CLIENT.redirect_uris[0],
        "scope": "openid email",
        "state": "s",
        "nonce": nonce,
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
    }
    b = Browser(httpx.AsyncClient(timeout=30), "http://127.0.0.1:9", login)
    back = await b.at_provider(meta["authorization_endpoint"] + "?" + urlencode(query))
    code = parse_qs(urlsplit(back).query)["code"][0]
    answer = await env.http.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": RP_CLIENT.redirect_uris[0],
            "code_verifier": verifier,
        },
        auth=(RP_CLIENT.client_id, RP_CLIENT.client_secret),
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id_token"])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


async def test_a_tampered_id_token_is_refused(env: Env) -> None:
    nonce = secrets.token_urlsafe(16)
    token = await _real_id_token(env, "user7", nonce)
    rp = OidcProvider("rp", env.idp.issuer, RP_CLIENT.client_id, "unused", ("acme.test",))
    checker = ProviderClient(rp)
    try:
        claims = await checker.verify_id_token(token, nonce=nonce)  # the genuine token passes
        assert claims["sub"] == "user7"
        header, payload, signature = token.split(".")
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        forged = f"{header}.{_b64(json.dumps({**body, 'sub': 'alice'}).encode())}.{signature}"
        with pytest.raises(IdTokenError, match="signature"):
            await checker.verify_id_token(forged, nonce=nonce)
        unsigned = f"{_b64(json.dumps({'alg': 'none'}).encode())}.{payload}."
        with pytest.raises(IdTokenError, match="algorithm"):
            await checker.verify_id_token(unsigned, nonce=nonce)
        with pytest.raises(IdTokenError, match="nonce"):
            await checker.verify_id_token(token, nonce="another sign-in")
        # The same genuine token shown to the API's client: not meant for it.
        api = ProviderClient(env.services.settings.oidc_providers[0])
        try:
            with pytest.raises(IdTokenError, match="aud"):
                await api.verify_id_token(token, nonce=nonce)
        finally:
            await api.close()
    finally:
        await checker.close()


async def test_rotated_provider_keys_are_fetched_once(env: Env) -> None:
    client = env.services.sso["acme"]
    await _redeem(env, await env.browser("rota").sign_in("rota@acme.test"))
    fetched = client.jwks_fetches
    assert fetched >= 1
    # The provider rotates: a new key signs from now on, the old one is still published.
    env.idp.keys = [signing_key(), *env.idp.keys]
    env.idp.restart()
    await _redeem(env, await env.browser("rota").sign_in("rota@acme.test"))
    assert client.jwks_fetches == fetched + 1
    await _redeem(env, await env.browser("rota").sign_in("rota@acme.test"))
    assert client.jwks_fetches == fetched + 1  # the new key is now known: no further fetch


def test_provider_files_are_in_place() -> None:
    here = Path(__file__).resolve().parents[1] / "support" / "oidc"
    assert (here / "package-lock.json").is_file() and (here / "provider.mjs").is_file()


async def test_an_answer_naming_another_issuer_is_refused(env: Env) -> None:
    b = env.browser("user6")
    callback = await b.at_provider((await b.start("user6@acme.test")).headers["location"])
    assert parse_qs(urlsplit(callback).query)["iss"] == [env.idp.issuer]  # this provider names itself (RFC 9207)
    mixed = await b.back(_with_query(callback, iss="https://evil.example"))
    assert mixed["sso_error"] == "UNAUTHENTICATED" and "another provider" in mixed["sso_message"]


REQUIRE = """mutation($m: ID!, $on: Boolean!) {
  setMeetingSsoRequired(meetingId: $m, required: $on) { meetingId required provider } }"""


async def test_a_meeting_that_requires_single_sign_on_lets_in_only_the_companys_people(env: Env) -> None:
    world = World(env.anon)
    host_auth = await _redeem(env, await env.browser("host").sign_in("host@acme.test"))
    host = Person(env.anon.with_token(host_auth["accessToken"]), "Acme Host", host_auth["user"]["id"])
    m = await world.meeting(host, waitingRoom=False, joinBeforeHost=True)
    on = (await host.client(REQUIRE, m=m["id"], on=True))["setMeetingSsoRequired"]
    assert on == {"meetingId": m["id"], "required": True, "provider": "Acme ID"}

    outsider = await world.user("Password Person")
    err = await outsider.client.error(
        "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { status } }", i={"number": m["number"]}
    )
    assert err.code == "FORBIDDEN" and "Acme ID company account" in str(err)
    err = await env.anon.error(
        "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { status } }",
        i={"number": m["number"], "displayName": "A Guest"},
    )
    assert err.code == "FORBIDDEN" and "company account" in str(err)

    member_auth = await _redeem(env, await env.browser("member").sign_in("member@acme.test"))
    member = Person(env.anon.with_token(member_auth["accessToken"]), "Acme Member")
    _, joined = await world.join(member, m)
    assert joined["status"] in ("ADMITTED", "WAITING")
    _, joined = await world.join(host, m)
    assert joined["status"] == "ADMITTED"

    # A host without a company account cannot ask for it; a participant cannot change it.
    own = await world.meeting(outsider)
    err = await outsider.client.error(REQUIRE, m=own["id"], on=True)
    assert err.code == "FORBIDDEN" and "single sign-on" in str(err)
    assert (await member.client.error(REQUIRE, m=m["id"], on=False)).code == "FORBIDDEN"

    off = (await host.client(REQUIRE, m=m["id"], on=False))["setMeetingSsoRequired"]
    assert off == {"meetingId": m["id"], "required": False, "provider": None}
    _, joined = await world.join(outsider, m)
    assert joined["participant"]["state"] in ("ADMITTED", "WAITING")


async def test_a_password_less_account_exports_its_identity_and_cannot_be_deleted_by_password(env: Env) -> None:
    signed = await _redeem(env, await env.browser("exporter").sign_in("exporter@acme.test"))
    me = env.anon.with_token(signed["accessToken"])
    url = (await me("mutation { requestDataExport { url } }"))["requestDataExport"]["url"]
    res = await env.http.get(url)
    assert res.status_code == 200, res.text
    account = json.loads(zipfile.ZipFile(io.BytesIO(res.content)).read("data.json"))["account"]
    assert account["has_password"] is False
    [identity] = account["identities"]
    assert (identity["provider"], identity["issuer"], identity["subject"]) == ("acme", env.idp.issuer, "exporter")
    err = await me.error("mutation($p: String!) { deleteAccount(password: $p) }", p="any password at all")
    assert err.code == "FORBIDDEN" and "single sign-on" in str(err)
