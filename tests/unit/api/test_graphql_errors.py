from __future__ import annotations

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


def test_unexpected_errors_are_masked() -> None:
    e = GraphQLError("boom", original_error=RuntimeError("secret internals at /srv/db"))
    map_error(e)
    assert e.extensions == {"code": "INTERNAL"}
    assert "secret" not in e.message and e.original_error is None
    assert "secret" not in str(e.formatted)


def test_schema_errors_are_bad_input() -> None:
    e = GraphQLError("Cannot query field 'x' on type 'Query'.")
    map_error(e)
    assert e.extensions == {"code": "BAD_INPUT"}
