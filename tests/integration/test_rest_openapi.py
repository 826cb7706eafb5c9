"""The OpenAPI 3.1 document of /api/v1 against the running server (issue 18): schemathesis generates requests
from the document (valid and invalid ones, random ids and real ones) and checks every answer: no server error,
a documented status, content type and headers, a body that matches the schema. Bounded: a few examples per
operation and mode, no deadline (the CI machine is small). Also: the reference page loads nothing from outside."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import RunningServer
from tests.support.gql import Client
from tests.support.rest import Rest, api_key
from tests.support.webhooks import local_hooks_server
from tests.support.world import World, live_meeting

pytestmark = pytest.mark.timeout(600)

EXAMPLES = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _fuzz(doc: dict[str, Any], base_url: str, token: str, ids: dict[str, str]) -> Counter[tuple[str, int]]:
    """Run in a thread: the server answers on the test's event loop meanwhile. Counts answers per (operationId,
    status). Deletes run last, so the other operations meet the real objects first."""
    schema = schemathesis.openapi.from_dict(doc)
    statuses: Counter[tuple[str, int]] = Counter()
    session = requests.Session()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in sorted(operations, key=lambda o: o.method.upper() == "DELETE"):
        wanted = {name: ids[name] for name in ids if f"{{{name}}}" in operation.path}
        variants = [(GenerationMode.POSITIVE, {}), (GenerationMode.NEGATIVE, {})]
        if wanted:
            variants += [(GenerationMode.POSITIVE, wanted), (GenerationMode.NEGATIVE, wanted)]
        for mode, path_parameters in variants:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None)

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def check(case: Any) -> None:
                response = case.call(
                    base_url=base_url, session=session, headers={"authorization": f"Bearer {token}"}, timeout=30
                )
                statuses[case.operation.definition.raw["operationId"], response.status_code] += 1
                case.validate_response(response, checks=CHECKS)

            check()
    return statuses


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def fuzz_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    """Webhooks may go to 127.0.0.1 here, so the fuzzed key owns a real endpoint with a real delivery (to a port
    nothing listens on: the challenge fails and is retried, which is all the run needs)."""
    async with local_hooks_server(request.param, tmp_path_factory.mktemp(f"fuzz-{request.param}")) as srv:
        yield srv


async def test_every_answer_matches_the_document(fuzz_server: RunningServer, http: httpx.AsyncClient) -> None:
    server, world = fuzz_server, World(Client(fuzz_server.url, http))
    host, m = await live_meeting(world, title="Fuzzed")
    guest, _ = await world.join(None, m, name="Guest")
    rec = (await host.client("mutation($m: ID!) { startRecording(meetingId: $m) { id } }", m=m["id"]))["startRecording"]
    token, _ = await api_key(host, rate=60_000)
    rest = Rest(server.url, http, token)
    hook = (await rest.ok("POST", "/webhooks/endpoints", json={"url": "http://127.0.0.1:9/fuzzed"}))["endpoint"]
    [challenge] = (await rest.ok("GET", f"/webhooks/endpoints/{hook['id']}/deliveries"))["items"]
    doc = (await http.get(f"{server.url}/api/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    ids = {
        "meeting_id": m["id"],
        "participant_id": str(guest.participant_id),
        "recording_id": rec["id"],
        "endpoint_id": hook["id"],
        "delivery_id": challenge["id"],
    }
    # Every webhook operation is in the document, so the run below reaches each of them.
    ops = {o["operationId"] for path in doc["paths"].values() for o in path.values()}
    assert {
        "listWebhookEndpoints",
        "createWebhookEndpoint",
        "getWebhookEndpoint",
        "updateWebhookEndpoint",
        "deleteWebhookEndpoint",
        "rotateWebhookSecret",
        "verifyWebhookEndpoint",
        "listWebhookDeliveries",
        "redeliverWebhook",
        "replayWebhooks",
        "getMeetingCalendarLinks",
        "getCalendarFeed",
        "rotateCalendarFeed",
        "revokeCalendarFeed",
    } <= ops
    answers = await asyncio.to_thread(_fuzz, doc, server.url, token, ids)
    statuses = Counter[int]()
    for (_, status), n in answers.items():
        statuses[status] += n
    # The reads given the real endpoint and meeting reached their handlers (a success, not only the validation
    # layer's 400 or a 404 for random ids). Webhook changes share the service's 30 a minute per account: after the
    # first few most of them are answered 429 (documented, with Retry-After), which the checks above held to.
    reached = {name for (name, status), n in answers.items() if status < 300}
    hooks = str(sorted((k, n) for k, n in answers.items() if "ebhook" in k[0] or "alendar" in k[0]))
    assert {
        "listWebhookEndpoints",
        "getWebhookEndpoint",
        "listWebhookDeliveries",
        "updateWebhookEndpoint",
        "getMeetingCalendarLinks",
    } <= reached, hooks
    assert not any(s >= 500 for s in statuses), statuses
    # The run reached the handlers, not only the validation layer: successes and domain errors both occurred.
    assert sum(n for s, n in statuses.items() if s < 300) >= 10, statuses
    assert statuses[400] > 0 and statuses[404] > 0, statuses
    # The server is still whole afterwards.
    assert (await Rest(server.url, http, token).ok("GET", "/me"))["id"] == host.user_id


async def test_reference_page_loads_only_local_assets(server: RunningServer, http: httpx.AsyncClient) -> None:
    page = await http.get(f"{server.url}/api/v1/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(r'url: "([^"]+)"', page.text)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    for url in urls:
        res = await http.get(server.url + url)
        assert res.status_code == 200, url
    bundle = await http.get(f"{server.url}/web/vendor/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith("text/javascript") and len(bundle.content) > 100_000
