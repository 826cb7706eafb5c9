"""The GraphQL HTTP and WebSocket boundary: Strawberry's Litestar controller with strict request parsing, coded
error bodies and per-connection WebSocket limits (reference: docs/api-limits.md).

HTTP: every refusal is ``{"errors": [{"message": …, "extensions": {"code": …}}]}`` (GraphQL-over-HTTP's shape)
with status 400 (BAD_INPUT), 413 (PAYLOAD_TOO_LARGE) or 404/405 — never Strawberry's plain-text reasons or a 500.

WebSocket (graphql-transport-ws only; the legacy graphql-ws protocol is not offered): at most
``graphql_ws_max_operations`` active operations per connection (one more gets an ``error`` message with code
RATE_LIMITED for its id, the connection stays usable), a token bucket of ``graphql_ws_messages_per_s`` /
``graphql_ws_message_burst`` messages (empty: close 4429 "too many messages"), malformed messages close 4400.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, ClassVar

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException as LitestarHTTPException
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.litestar import make_graphql_controller
from strawberry.litestar.controller import GraphQLController
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message

from api.graphql import shared_frames, strict_json
from api.graphql.token_bucket import TokenBucket
from api.settings import Settings
from api.web import WEB
from protocol.errors import ErrorCode

GRAPHIQL_PAGE = WEB / "graphiql.html"
"""The API explorer (API_GRAPHIQL=1): GraphiQL from web/node_modules, no CDN."""

TOO_MANY_MESSAGES = 4429
"""Close code when a connection exceeds its message rate: graphql-transport-ws uses 4400-4499 for the client's
faults (4429 already means "too many initialisation requests"); the reason says which."""

_CODES = {413: ErrorCode.PAYLOAD_TOO_LARGE, 404: ErrorCode.NOT_FOUND}


def error_response(status: int, message: str) -> Response[bytes]:
    code = _CODES.get(status, ErrorCode.BAD_INPUT)
    body = {"errors": [{"message": message, "extensions": {"code": code.value}}]}
    return Response(json.dumps(body).encode(), status_code=status, media_type=MediaType.JSON)


def _optional(data: dict[str, Any], key: str, kind: type, what: str) -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise HTTPException(400, f"`{key}` must be {what} or null (got {type(value).__name__})")
    return value


class LimitedTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    max_operations: ClassVar[int] = 20
    messages_per_s: ClassVar[float] = 20.0
    message_burst: ClassVar[int] = 60
    clock: ClassVar[Callable[[], float]] = time.monotonic

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bucket = TokenBucket(self.messages_per_s, self.message_burst)
        self.closing = False

    async def handle_message(self, message: Message) -> None:
        if self.closing:
            return
        if not self.bucket.take(type(self).clock()):
            self.closing = True
            await self.websocket.close(code=TOO_MANY_MESSAGES, reason="too many messages")
            return
        problem = self._malformed(message)
        if problem:
            await self.handle_invalid_message(problem)
            return
        if (
            message["type"] == "subscribe"
            and self.connection_acknowledged
            and message["id"] not in self.operations
            and len(self.operations) >= self.max_operations
        ):
            error = GraphQLError(
                f"at most {self.max_operations} operations may be active on one connection; complete one first",
                extensions={"code": ErrorCode.RATE_LIMITED.value},
            )
            await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
            return
        await super().handle_message(message)

    @staticmethod
    def _malformed(message: object) -> str | None:
        """Why a message cannot be handled (Strawberry indexes into it and would crash), or None."""
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return "a message must be a JSON object with a string `type`"
        kind = message["type"]
        if kind in ("subscribe", "complete") and not isinstance(message.get("id"), str):
            return f"a {kind} message needs a string `id`"
        if kind == "subscribe":
            payload = message.get("payload")
            if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
                return "a subscribe message needs a `payload` object with a string `query`"
            for key, kind_of in (("variables", dict), ("extensions", dict), ("operationName", str)):
                if payload.get(key) is not None and not isinstance(payload[key], kind_of):
                    return f"`payload.{key}` must be {'an object' if kind_of is dict else 'a string'} or null"
        return None


def make_controller(
    schema: BaseSchema, settings: Settings, context_getter: Callable[..., Any]
) -> type[GraphQLController]:
    base = make_graphql_controller(
        schema,
        path="/graphql",
        context_getter=context_getter,
        keep_alive=True,
        keep_alive_interval=15,
        allowed_origins=list(settings.allowed_origins),  # same-origin pages are always allowed
        graphql_ide="graphiql" if settings.graphiql else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        max_subscriptions_per_connection=None,  # ours, with a code: LimitedTransportWSHandler
    )

    class WSHandler(LimitedTransportWSHandler):
        max_operations = settings.graphql_ws_max_operations
        messages_per_s = settings.graphql_ws_messages_per_s
        message_burst = settings.graphql_ws_message_burst

    max_body = settings.graphql_max_body_bytes

    class Controller(base):  # type: ignore[valid-type,misc]
        request_max_body_size = max_body
        graphql_transport_ws_handler_class = WSHandler

        def encode_json(self, data: object) -> str | bytes:
            # Subscription frames: one encoding of an event's data for all its subscribers (shared_frames).
            return shared_frames.encode(data)

        def decode_json(self, data: str | bytes) -> object:
            # Also what Strawberry's WebSocket loop uses: JSONRejected is a JSONDecodeError, so it closes 4400.
            return strict_json.decode(data)

        def parse_json(self, data: str | bytes) -> Any:
            try:
                return strict_json.decode(data)
            except strict_json.JSONRejected as exc:
                raise HTTPException(400, f"the request is not usable JSON: {exc}") from None

        async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
            if request.method == "GET":
                params = request.query_params
                # Litestar's MultiDict shows one value per key; which one GraphQL would get is arbitrary.
                multi = getattr(params, "multi_items", None)
                keys = [k for k, _ in multi()] if multi is not None else list(params.keys())
                if len(keys) != len(set(keys)):
                    repeated = next(k for k in keys if keys.count(k) > 1)
                    raise HTTPException(400, f"the query-string parameter {repeated[:40]!r} is repeated")
                data: object = self.parse_query_params(params)
            else:
                content_type, _ = parse_content_type(request.content_type or "")
                if content_type != "application/json":
                    raise HTTPException(400, f"send application/json (got {content_type[:60] or 'no content type'!r})")
                try:
                    body = await request.get_body()
                except LitestarHTTPException as exc:
                    if exc.status_code == 413:
                        raise HTTPException(413, f"the body is over {max_body:,} bytes") from None
                    raise
                data = self.parse_json(body)
            if not isinstance(data, dict):
                raise HTTPException(400, "the body must be one JSON object (batching is not supported)")
            return GraphQLRequestData(
                query=_optional(data, "query", str, "a string"),
                variables=_optional(data, "variables", dict, "an object"),
                operation_name=_optional(data, "operationName", str, "a string"),
                extensions=_optional(data, "extensions", dict, "an object"),
                protocol="http",
            )

        async def render_graphql_ide(self, request: Request[Any, Any, Any]) -> Response[str]:
            # Strawberry's page loads GraphiQL from a CDN (blank offline); ours serves the npm bundle locally.
            return Response(GRAPHIQL_PAGE.read_text(), media_type=MediaType.HTML, headers={"cache-control": "no-cache"})

        async def execute_request(
            self, request: Request[Any, Any, Any], context: Any, root_value: Any
        ) -> Response[Any]:
            try:
                return await self.run(request, context=context, root_value=root_value)  # type: ignore[no-any-return]
            except HTTPException as exc:
                return error_response(exc.status_code, exc.reason)

    return Controller
