"""``python -m bench.ceiling_app``: the framework ceiling the API's read queries are compared with (issue 16).

The same Litestar app shape and GraphQL transport as the API (``api.graphql.transport.make_controller``: strict
JSON, coded errors), the same schema class with the bounded, cached parser and the document-limits validator, but
a schema of one query answering ``meeting(id)``'s fields from a constant: no database, no token check. What it
serves per CPU-second is what Litestar + Strawberry allow; ours / this is how much the API's own work costs.
``GET /plain`` is a plain Litestar JSON route, the floor under both.

Configured like the API: API_HOST, API_PORT.
"""

from __future__ import annotations

import functools
import os

import strawberry
import uvicorn
from litestar import Litestar, get
from strawberry.litestar.controller import BaseContext

from api.graphql.document_limits import DocumentLimiter, DocumentLimits, make_parser, make_validator
from api.graphql.schema import MeetmeshSchema
from api.graphql.transport import make_controller
from api.settings import Settings


@strawberry.type
class CeilingSettings:
    max_participants: int


@strawberry.type
class CeilingMeeting:
    id: strawberry.ID
    title: str
    status: str
    settings: CeilingSettings


@strawberry.type
class CeilingQuery:
    @strawberry.field
    def meeting(self, id: strawberry.ID) -> CeilingMeeting:
        return CeilingMeeting(
            id=id, title="Ceiling meeting", status="SCHEDULED", settings=CeilingSettings(max_participants=1000)
        )


class CeilingContext(BaseContext, kw_only=True):
    pass


async def _context() -> CeilingContext:
    return CeilingContext()


@get("/plain", sync_to_thread=False)
def plain() -> dict[str, object]:
    return {"data": {"meeting": {"id": "m", "title": "Ceiling meeting", "status": "SCHEDULED"}}}


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> Litestar:
    limits = DocumentLimits()
    schema = MeetmeshSchema(
        query=CeilingQuery, extensions=[functools.partial(DocumentLimiter, make_validator(limits, cache_size=1024))]
    )
    schema.parse_bounded = make_parser(limits, cache_size=1024)
    controller = make_controller(schema, Settings(), _context)
    return Litestar(route_handlers=[controller, plain, healthz])


def main() -> None:
    uvicorn.run(
        create_app(),
        host=os.environ.get("API_HOST", "127.0.0.1"),
        port=int(os.environ.get("API_PORT", "8000")),
        log_level="warning",
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
