"""The REST API's reference page (/api/v1/docs): Swagger UI from the npm package served by the API itself. The
browser may reach nothing but the server (every other request is aborted and recorded), and the page still loads
the OpenAPI document, lists the operations, and "Try it out" runs GET /api/v1/me with the signed-in user's token
(filled in from the home page's localStorage) and shows the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import RunningServer, make_settings
from tests.e2e.browser_support import offline_page, signed_up

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    srv = RunningServer(make_settings(tmp_path))
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


async def test_reference_page_works_offline_and_tries_a_call(server: RunningServer) -> None:
    token = await signed_up(server.url, "rita@example.test", "Rita Rest")
    async with offline_page(server.url, token) as (page, elsewhere):
        await page.goto(f"{server.url}/api/v1/docs", wait_until="networkidle")
        await page.wait_for_selector("#operations-users-getMe", timeout=20_000)
        assert await page.locator(".opblock").count() >= 15  # every operation of the document is listed
        await page.click("#operations-users-getMe .opblock-summary")
        await page.click("#operations-users-getMe .try-out__btn")
        await page.click("#operations-users-getMe .execute")
        await page.wait_for_function(
            "document.querySelector('#operations-users-getMe .responses-wrapper')?.textContent.includes('Rita Rest')",
            timeout=20_000,
        )
    assert elsewhere == []
