"""Single sign-on clicked through in headless Chromium: the landing page's "Sign in with your company account"
form, the real OpenID provider's own login and consent pages (npm ``oidc-provider``, started here), and back to
the landing page signed in; then a password log-in to that account says it signs in with the company account,
and a sign-in the provider refuses (an unverified address) comes back as a sentence on the landing page."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import RunningServer, make_settings
from tests.e2e.browser_support import chromium
from tests.support.oidc_provider import Client, LocalProvider, configured
from tests.support.web_ui import axe, shot

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]


@pytest.fixture
async def sso_server(tmp_path: Path) -> AsyncIterator[tuple[RunningServer, LocalProvider]]:
    settings = make_settings(tmp_path)
    client = Client("meetmesh", secrets.token_urlsafe(24), [settings.base_url + "/auth/sso/callback"])
    idp = LocalProvider(
        clients=[client],
        accounts={
            "ann": {"email": "ann@acme.test", "email_verified": True, "name": "Ann from Acme"},
            "eve": {"email": "eve@acme.test", "email_verified": False, "name": "Eve"},
        },
    )
    idp.start()
    try:  # the provider is stopped even when the API fails to start
        server = RunningServer(make_settings(tmp_path, port=settings.port, oidc_providers=configured(idp, client)))
        await server.start()
        try:
            yield server, idp
        finally:
            await server.stop()
    finally:
        idp.stop()


async def test_sign_in_with_the_company_account_from_the_landing_page(
    sso_server: tuple[RunningServer, LocalProvider],
) -> None:
    server, idp = sso_server
    async with chromium() as browser:
        ctx = await browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-US")
        page = await ctx.new_page()
        await page.goto(server.url + "/")
        sso = page.locator("form[data-form=sso]")
        await sso.get_by_label("Email").fill("ann@acme.test")
        await shot(page, "sso-landing")
        await axe(page, "sso-landing")  # the company sign-in card adds no serious accessibility violation
        await sso.get_by_role("button", name="Continue").click()
        # The provider's own pages: a login form, then consent.
        await page.wait_for_url(idp.issuer + "/interaction/**")
        await page.fill("input[name=login]", "ann")
        await page.fill("input[name=password]", "anything")
        await page.get_by_role("button", name="Sign-in").click()
        await page.get_by_role("button", name="Continue").click()
        # Back on the landing page, signed in; the one-time ticket is gone from the address bar.
        await page.wait_for_selector("[data-role=me]", timeout=20_000)
        assert "Ann from Acme" in (await page.text_content("[data-role=me]") or "")
        assert "sso_ticket" not in page.url
        await shot(page, "sso-signed-in")

        await page.click("[data-action=sign-out]")
        form = page.locator("form[data-form=signIn]")
        await form.get_by_label("Email").fill("ann@acme.test")
        await form.get_by_label("Password").fill("not a password here")
        await page.click("[data-action=sign-in]")
        error = page.locator("[data-role=error]")
        await error.wait_for()
        assert "company account" in (await error.text_content() or "")
        await ctx.close()

        # Someone whose address the provider has not verified: refused, and told why, back on the landing page.
        ctx = await browser.new_context(locale="en-US")
        page = await ctx.new_page()
        await page.goto(server.url + "/")
        sso = page.locator("form[data-form=sso]")
        await sso.get_by_label("Email").fill("eve@acme.test")
        await sso.get_by_role("button", name="Continue").click()
        await page.wait_for_url(idp.issuer + "/interaction/**")
        await page.fill("input[name=login]", "eve")
        await page.fill("input[name=password]", "anything")
        await page.get_by_role("button", name="Sign-in").click()
        await page.get_by_role("button", name="Continue").click()
        error = page.locator("[data-role=error]")
        await error.wait_for(timeout=20_000)
        text = await error.text_content() or ""
        assert "did not work" in text and "not verified" in text, text
        assert "sso_error" not in page.url and await page.locator("[data-role=me]").count() == 0
        await shot(page, "sso-refused")
        await ctx.close()
