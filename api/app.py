"""`create_app(settings)`: the one factory production and tests use."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.static_files import create_static_files_router

from api.audit.request import caller_middleware
from api.breakouts.service import run_due_closes_forever
from api.bus import Bus, MemoryBus, RedisBus
from api.calendars import http as calendars_http
from api.calendars import invitations as calendar_invitations
from api.calendars import provider as calendar_provider
from api.calendars.sync import Syncer as CalendarSyncer
from api.chat import http as chat_http
from api.collab import http as collab_http
from api.collab.service import CollabService
from api.db import Database, make_engine
from api.db_errors import is_bad_data
from api.events.retention import prune_forever
from api.graphql.context import Context
from api.graphql.document_limits import DocumentLimits
from api.graphql.schema import build_schema
from api.graphql.transport import make_controller
from api.media.feed import edge_feed
from api.privacy import http as privacy_http
from api.privacy.retention import sweep_forever as privacy_sweep_forever
from api.recordings import http as recordings_http
from api.recordings.processing import load_processor, run_processing_forever
from api.rest import routes as rest_routes
from api.services import Services
from api.settings import Settings
from api.web import ROUTES as WEB_ROUTES
from api.webhooks.dispatch import Dispatcher, load_sender
from api.webhooks.retention import prune_forever as webhooks_prune_forever
from dbschema import migrate

log = logging.getLogger("meetmesh.api")
STATIC = Path(__file__).parent / "static"


@get("/healthz", media_type=MediaType.JSON)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/.well-known/meetmesh/join-token-key", media_type=MediaType.TEXT)
async def join_token_key(state: State) -> str:
    """Public key edges use to verify join tokens (PEM, Ed25519)."""
    return state.services.creds.join_public_key_pem  # type: ignore[no-any-return]


def _http_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # Outside GraphQL (which maps its own errors): plain HTTP errors keep their status, anything unexpected is
    # logged and answered without internals.
    if is_bad_data(exc):  # a value the database cannot hold (text with NUL on PostgreSQL): the caller's
        return Response({"error": "a value in this request is not valid here", "code": "BAD_INPUT"}, status_code=400)
    if isinstance(exc, HTTPException):
        return Response(
            {"error": exc.detail, "code": "BAD_INPUT" if exc.status_code < 500 else "INTERNAL"},
            status_code=exc.status_code,
        )
    log.exception("unhandled error on %s", request.url.path)
    return Response({"error": "Internal error; it has been logged", "code": "INTERNAL"}, status_code=500)


BACKGROUND = "background:"
"""Prefix of the names of the API's own periodic tasks (sweepers, pruners), so a tool that watches requests can
tell their work from a request's."""


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    bus: Bus = RedisBus(settings.redis_url, settings.redis_prefix) if settings.redis_url else MemoryBus()
    db = Database(make_engine(settings.sqlalchemy_url), bus)
    services = Services.build(settings, db, bus)
    collab = CollabService(services)  # shared documents (api/collab): their own path, not the event log

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await migrate.upgrade(db.engine)
        background = [
            asyncio.create_task(prune_forever(services), name=f"{BACKGROUND}event-log-pruner"),
            asyncio.create_task(run_due_closes_forever(services), name=f"{BACKGROUND}breakout-sweeper"),
            asyncio.create_task(privacy_sweep_forever(services), name=f"{BACKGROUND}privacy-sweeper"),
            asyncio.create_task(collab.run_flusher(), name=f"{BACKGROUND}collab-flusher"),
        ]
        dispatcher = Dispatcher(services, load_sender(settings.webhook_sender))
        background.append(asyncio.create_task(dispatcher.run_forever(), name=f"{BACKGROUND}webhooks"))
        background.append(asyncio.create_task(webhooks_prune_forever(services), name=f"{BACKGROUND}webhook-pruner"))
        # api/calendars: connected calendars (CalDAV) are written from the sync outbox, never in a request.
        syncer = CalendarSyncer(services, calendar_provider.provider_for(settings.calendar_provider))
        background.append(asyncio.create_task(syncer.run_forever(), name=f"{BACKGROUND}calendar-sync"))
        processor = load_processor(settings.recording_processor)
        if processor is not None:
            background.append(
                asyncio.create_task(run_processing_forever(services, processor), name=f"{BACKGROUND}recordings")
            )
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            # api/calendars: invitations being handed to the mail server get a moment to finish (bounded).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(calendar_invitations.drain(), timeout=10)
            await calendar_provider.close_all()
            await collab.close()  # stores the shared documents' pending edits
            await services.rate.close()
            await services.edges.close()
            await bus.close()
            await db.dispose()

    async def context_getter(state: State) -> Context:
        return Context(services=state.services)

    limits = DocumentLimits(
        max_bytes=settings.graphql_max_document_bytes,
        max_tokens=settings.graphql_max_tokens,
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_cost=settings.graphql_max_cost,
        default_list_size=settings.graphql_default_list_size,
    )
    GraphQLController = make_controller(build_schema(limits), settings, context_getter)
    return Litestar(
        route_handlers=[
            GraphQLController,
            healthz,
            join_token_key,
            *WEB_ROUTES,  # the browser client: / (landing), /m/{number}, /web/*
            create_static_files_router(path="/static", directories=[STATIC]),
            *chat_http.ROUTES,
            *recordings_http.ROUTES,
            *privacy_http.ROUTES,
            *calendars_http.ROUTES,  # /calendar: .ics of a meeting, secret per-user feeds
            *rest_routes.ROUTES,  # /api/v1 (REST, OpenAPI at /api/v1/openapi.json, reference page /api/v1/docs)
            *collab_http.ROUTES,
            edge_feed,
        ],
        state=State({"services": services, "collab": collab}),
        lifespan=[lifespan],
        middleware=[caller_middleware],  # api/audit: who asks (client address), for audit rows
        exception_handlers={Exception: _http_error},
        debug=False,
    )
