from __future__ import annotations

from tests.support.gql import Client
from tests.support.world import SIGN_UP, World

ME = "{ me { id email displayName } }"
LOG_IN = "mutation($i: LogInInput!) { logIn(input: $i) { accessToken refreshToken user { id } } }"
REFRESH = "mutation($t: String!) { refreshTokens(refreshToken: $t) { accessToken refreshToken } }"


async def test_sign_up_log_in_and_me(anon: Client) -> None:
    data = await anon(SIGN_UP, i={"email": "  Mixed.Case@Example.test ", "password": "hunter22!", "displayName": "Ann"})
    email = "mixed.case@example.test"
    token = data["signUp"]["accessToken"]
    me = (await anon.with_token(token)(ME))["me"]
    assert me["email"] == email and me["displayName"] == "Ann"

    logged = (await anon(LOG_IN, i={"email": email.upper(), "password": "hunter22!"}))["logIn"]
    assert logged["user"]["id"] == me["id"]
    err = await anon.error(LOG_IN, i={"email": email, "password": "wrong-password"})
    assert err.code == "UNAUTHENTICATED"
    assert (await anon(ME))["me"] is None


async def test_duplicate_email_is_a_conflict(world: World, anon: Client) -> None:
    u = await world.user()
    me = (await u.client(ME))["me"]
    err = await anon.error(SIGN_UP, i={"email": me["email"], "password": "whatever123", "displayName": "X"})
    assert err.code == "CONFLICT" and err.field == "email"


async def test_sign_up_validation_names_the_field(anon: Client) -> None:
    cases = [
        ({"email": "not-an-email", "password": "longenough", "displayName": "A"}, "email"),
        ({"email": "ok@example.test", "password": "short", "displayName": "A"}, "password"),
        ({"email": "ok@example.test", "password": "longenough", "displayName": "  "}, "displayName"),
        ({"email": "ok@example.test", "password": "longenough", "displayName": "x" * 65}, "displayName"),
    ]
    for i, field in cases:
        err = await anon.error(SIGN_UP, i=i)
        assert (err.code, err.field) == ("BAD_INPUT", field), (i, err)


async def test_refresh_rotates_and_reuse_revokes_the_family(world: World, anon: Client) -> None:
    u = await world.user()
    first = u.refresh_token
    rotated = (await anon(REFRESH, t=first))["refreshTokens"]
    assert rotated["refreshToken"] != first
    assert (await anon.with_token(rotated["accessToken"])(ME))["me"] is not None
    # Re-using the old token means it leaked: refused, and the rotated one dies with it.
    assert (await anon.error(REFRESH, t=first)).code == "UNAUTHENTICATED"
    assert (await anon.error(REFRESH, t=rotated["refreshToken"])).code == "UNAUTHENTICATED"


async def test_log_out_revokes(world: World, anon: Client) -> None:
    u = await world.user()
    assert (await anon("mutation($t: String!) { logOut(refreshToken: $t) }", t=u.refresh_token))["logOut"] is True
    assert (await anon.error(REFRESH, t=u.refresh_token)).code == "UNAUTHENTICATED"


async def test_garbage_token_is_unauthenticated_not_a_crash(anon: Client) -> None:
    err = await anon.with_token("not.a.jwt").error(ME)
    assert err.code == "UNAUTHENTICATED"
