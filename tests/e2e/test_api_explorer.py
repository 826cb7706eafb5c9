"""The API explorer (``API_GRAPHIQL=1``): GraphiQL from the npm bundle served by the API itself. The browser may
reach nothing but the server (every other request is aborted and recorded), and the explorer still loads, runs
a query with the signed-in user's token, and shows the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import RunningServer, make_settings
from tests.e2e.browser_support import offline_page, signed_up

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    srv = RunningServer(make_settings(tmp_path, graphiql=True))
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


async def test_graphiql_loads_from_local_assets_offline_and_runs_a_query(server: RunningServer) -> None:
    token = await signed_up(server.url, "eve@example.test", "Eve Explorer")
    async with offline_page(server.url, token) as (page, elsewhere):
        await page.goto(f"{server.url}/graphql", wait_until="networkidle")
        await page.wait_for_selector(".graphiql-container .graphiql-editor")
        await page.click(".graphiql-execute-button")
        await page.wait_for_function(
            "document.querySelector('.graphiql-response')?.textContent.includes('Eve Explorer')", timeout=15_000
        )
    assert elsewhere == []
