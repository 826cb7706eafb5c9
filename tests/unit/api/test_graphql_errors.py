from __future__ import annotations

import logging

import pytest
from graphql import GraphQLError

from api.errors import BadInputError, RateLimitedError
from api.graphql.errors import map_error


def test_domain_error_keeps_message_code_and_field() -> None:
    e = GraphQLError("x", original_error=BadInputError("title", "title must be 1..200 characters (got 0)"))
    map_error(e)
    assert e.message == "title must be 1..200 characters (got 0)"
    assert e.extensions == {"code": "BAD_INPUT", "field": "title"}


def test_rate_limit_carries_retry_after() -> None:
    e = GraphQLError("x", original_error=RateLimitedError("slow down", retry_after_s=3.2))
    map_error(e)
    assert e.extensions == {"code": "RATE_LIMITED", "retryAfter": 3.2}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.logs_errors
def test_unexpected_errors_are_masked() -> None:
    e = GraphQLError("boom", original_error=RuntimeError("secret internals at /srv/db"))
    seen = _Records()
    logging.getLogger("meetmesh.api").addHandler(seen)
    try:
        map_error(e)
    finally:
        logging.getLogger("meetmesh.api").removeHandler(seen)
    # Logged in full for the operator...
    assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in seen.records)
    # ...and nothing of it for the client.
    assert e.extensions == {"code": "INTERNAL"}
    assert "secret" not in e.message and e.original_error is None
    assert "secret" not in str(e.formatted)


def test_schema_errors_are_bad_input() -> None:
    e = GraphQLError("Cannot query field 'x' on type 'Query'.")
    map_error(e)
    assert e.extensions == {"code": "BAD_INPUT"}
