"""The schema: every domain's Query/Mutation/Subscription merged, with caching and error mapping."""

from __future__ import annotations

import functools
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.tools import merge_types
from strawberry.types.execution import ExecutionContext, PreExecutionError

from api.accounts.resolvers import AccountMutation, AccountQuery
from api.analytics import resolvers as analytics
from api.apikeys import resolvers as apikeys
from api.apikeys.guard import ApiKeyGuard
from api.audit import resolvers as audit
from api.breakouts import resolvers as breakouts
from api.calendars import resolvers as calendars
from api.chat import resolvers as chat
from api.collab import resolvers as collab
from api.events.resolvers import EventSubscription
from api.events.types import EVENT_TYPES
from api.graphql.document_limits import DocumentLimiter, DocumentLimits, Parser, make_parser, make_validator
from api.graphql.errors import map_error
from api.graphql.shared_events import SharedEventExecutionContext
from api.media import events as _media_events  # noqa: F401  (registers ActiveSpeakerEvent)
from api.meetings.resolvers import MeetingMutation, MeetingQuery
from api.participants.resolvers import EdgeQuery, ParticipantMutation
from api.polls import resolvers as polls
from api.privacy import resolvers as privacy
from api.privacy.liveness import DeletedAccountGuard
from api.recordings import resolvers as recordings
from api.sso import resolvers as sso
from api.webhooks import resolvers as webhooks

_DOMAINS = (chat, collab, polls, breakouts, recordings, analytics, audit, privacy, apikeys, webhooks, calendars, sso)
Query = merge_types("Query", (AccountQuery, MeetingQuery, EdgeQuery, *(q for d in _DOMAINS for q in d.QUERIES)))
Mutation = merge_types(
    "Mutation", (AccountMutation, MeetingMutation, ParticipantMutation, *(m for d in _DOMAINS for m in d.MUTATIONS))
)
Subscription = merge_types("Subscription", (EventSubscription, *(s for d in _DOMAINS for s in d.SUBSCRIPTIONS)))


class MeetmeshSchema(strawberry.Schema):
    parse_bounded: Parser

    async def _prepare_operation_async(
        self, context: ExecutionContext, extensions_runner: SchemaExtensionsRunner
    ) -> PreExecutionError | None:
        # Parse here, bounded, before Strawberry does: an error raised from an on_parse extension escapes the
        # WebSocket path (logged as a crashed task), while a document already set is simply not parsed again.
        # Errors become a PreExecutionError like Strawberry's own parse errors (a syntax error still closes a
        # graphql-transport-ws connection with 4400, as that protocol expects).
        if context.graphql_document is None and context.query:
            try:
                context.graphql_document = self.parse_bounded(context.query)
            except GraphQLError as error:
                context.pre_execution_errors = [error]
                return PreExecutionError(data=None, errors=[error])
        return await super()._prepare_operation_async(context, extensions_runner)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Strawberry calls this for every result (query, mutation, subscription frame) before extensions run;
        # mapping here, in place, covers all transports at one point.
        for error in errors:
            map_error(error)


def build_schema(limits: DocumentLimits | None = None) -> MeetmeshSchema:
    limits = limits or DocumentLimits()
    # One cache per schema (its limits are part of the answer); built once, so the caches outlive requests.
    # Parsing and validation cost ~2 ms a request uncached (field notes).
    validate = make_validator(limits, cache_size=1024)
    built = MeetmeshSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=EVENT_TYPES,
        execution_context_class=SharedEventExecutionContext,
        extensions=[
            functools.partial(DocumentLimiter, validate),
            DeletedAccountGuard,  # api/privacy: a deleted account's access tokens stop working at once
            # api/apikeys: a key's principal, rate and scopes (the guard above sees a key as no session token; a
            # deleted account's keys are deleted with it, so they fail here).
            ApiKeyGuard,
        ],
    )
    built.parse_bounded = make_parser(limits, cache_size=1024)
    return built


schema = build_schema()
