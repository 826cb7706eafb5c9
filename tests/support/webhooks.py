"""Shared by the webhook tests: GraphQL documents and helpers to register an endpoint and wait for deliveries."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.conftest import EDGE_SECRET, PG_ADMIN_URL, RunningServer, _pg_admin, make_settings
from tests.support.gql import eventually
from tests.support.world import Person

CREATE = """mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {
  secret endpoint { id url enabled verified eventTypes } } }"""
ENDPOINTS = "{ webhookEndpoints { id url enabled verified disabledReason eventTypes } }"
DELIVERIES = """query($e: ID!, $s: String) { webhookDeliveries(endpointId: $e, first: 200, status: $s) {
  id eventType meetingId status attempts lastStatusCode lastError payload
  attemptLog { statusCode latencyMs error } } }"""


async def endpoint(owner: Person, url: str, event_types: list[str] | None = None) -> tuple[str, str]:
    data = (await owner.client(CREATE, i={"url": url, "eventTypes": event_types or []}))["createWebhookEndpoint"]
    endpoint_id = data["endpoint"]["id"]

    async def verified() -> bool:
        eps = (await owner.client(ENDPOINTS))["webhookEndpoints"]
        return any(e["id"] == endpoint_id and e["verified"] for e in eps)

    await eventually(verified, timeout=30, interval=0.1)
    return endpoint_id, data["secret"]


async def deliveries(owner: Person, endpoint_id: str, status: str | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (await owner.client(DELIVERIES, e=endpoint_id, s=status))["webhookDeliveries"]
    return rows


async def settled(owner: Person, endpoint_id: str, timeout: float = 90) -> list[dict[str, Any]]:
    async def none_pending() -> bool:
        return not await deliveries(owner, endpoint_id, "pending")

    try:
        await eventually(none_pending, timeout=timeout, interval=0.2)
    except AssertionError:
        pending = await deliveries(owner, endpoint_id, "pending")
        raise AssertionError(f"still pending: {pending[:3]}; endpoints: {await owner.client(ENDPOINTS)}") from None
    return [d for d in await deliveries(owner, endpoint_id) if d["eventType"] != "endpoint.verification"]


@asynccontextmanager
async def database(backend: str) -> AsyncIterator[str]:
    """A PostgreSQL database of the caller's own ("" for SQLite: the server's data directory is its own already).
    Not the session's shared one: every API process on a database runs a dispatcher, and another test server's
    (without the loopback allow-list) would claim these tests' deliveries and refuse them."""
    if backend != "postgres":
        yield ""
        return
    name = f"meetmesh_hooks_{os.getpid()}_{secrets.token_hex(3)}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def local_hooks_server(backend: str, data_dir: Path, **overrides: object) -> AsyncIterator[RunningServer]:
    """A server of its own (``database``) whose webhooks may go to 127.0.0.1, with quick test-sized timeouts."""
    async with database(backend) as url:
        settings = make_settings(
            data_dir,
            url,
            edge_secret=EDGE_SECRET,
            **{
                "webhook_allowed_networks": ("127.0.0.1/32",),
                "webhook_connect_timeout_s": 1.0,
                "webhook_read_timeout_s": 1.0,
                "webhook_poll_s": 0.2,
                **overrides,
            },
        )
        srv = RunningServer(settings)
        await srv.start()
        try:
            yield srv
        finally:
            await srv.stop()
