"""The SDK's drift test: every document the SDK sends must validate against the checked-in api/schema.graphql
(which test_schema_file.py keeps equal to the live schema), so renaming or removing a field the SDK uses fails
here. The decoders must also read exactly what the documents select."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate
from meetmesh import operations as ops
from meetmesh.errors import ForbiddenError, MeetmeshError, RateLimitedError, ResyncRequiredError, error_from

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "api" / "schema.graphql"


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text())


def test_the_sdk_sends_many_documents() -> None:
    docs = ops.all_documents()
    # Accounts, meetings, joining, host controls, chat, polls, recordings, subscriptions.
    assert len(docs) >= 45
    for name in ("SIGN_UP", "JOIN", "SEND_CHAT", "CREATE_POLL", "RECORDING_QUERY", "MEETING_EVENTS", "MY_EVENTS"):
        assert name in docs


@pytest.mark.parametrize("name", sorted(ops.all_documents()))
def test_every_document_validates_against_the_schema(schema: GraphQLSchema, name: str) -> None:
    errors = validate(schema, parse(ops.all_documents()[name]))
    assert not errors, f"{name} drifted from api/schema.graphql: {[e.message for e in errors]}"


def test_a_renamed_field_is_caught(schema: GraphQLSchema) -> None:
    """The check above can fail: the same validation rejects a document once a field it uses is renamed."""
    renamed = build_schema(SCHEMA_FILE.read_text().replace("  senderName: String!", "  authorName: String!"))
    assert not validate(schema, parse(ops.SEND_CHAT))
    errors = validate(renamed, parse(ops.SEND_CHAT))
    assert any("senderName" in e.message for e in errors)


def test_errors_map_to_typed_exceptions_with_the_api_codes() -> None:
    err = error_from([{"message": "no", "extensions": {"code": "FORBIDDEN"}}])
    assert isinstance(err, ForbiddenError) and err.code == "FORBIDDEN" and str(err) == "FORBIDDEN: no"
    limited = error_from([{"message": "slow down", "extensions": {"code": "RATE_LIMITED", "retryAfter": 3}}])
    assert isinstance(limited, RateLimitedError) and limited.retry_after == 3.0
    assert isinstance(error_from([{"message": "x", "extensions": {"code": "RESYNC_REQUIRED"}}]), ResyncRequiredError)
    unknown = error_from([{"message": "boom"}])
    assert type(unknown) is MeetmeshError and unknown.code == "INTERNAL"
    field = error_from([{"message": "bad", "extensions": {"code": "BAD_INPUT", "field": "title"}}])
    assert field.field == "title"


def test_every_api_error_code_has_its_exception() -> None:
    """The server's codes (protocol/errors.py) and the SDK's exception table stay in step: a new code fails here."""
    from protocol.errors import ErrorCode

    for code in ErrorCode:
        err = error_from([{"message": "m", "extensions": {"code": code.value}}])
        assert err.code == code.value
        if code is not ErrorCode.INTERNAL:
            assert type(err) is not MeetmeshError, f"{code} has no exception class in meetmesh.errors"
