"""The GraphQL limit settings are read from the environment (API_ prefix) once, with documented defaults."""

from __future__ import annotations

from pathlib import Path

from api.settings import Settings

DOC = Path(__file__).resolve().parents[3] / "docs" / "api-limits.md"

ENV = {
    "API_GRAPHQL_MAX_BODY_BYTES": "2048",
    "API_GRAPHQL_MAX_DOCUMENT_BYTES": "1024",
    "API_GRAPHQL_MAX_TOKENS": "300",
    "API_GRAPHQL_MAX_DEPTH": "5",
    "API_GRAPHQL_MAX_ALIASES": "3",
    "API_GRAPHQL_MAX_COST": "777",
    "API_GRAPHQL_DEFAULT_LIST_SIZE": "7",
    "API_GRAPHQL_WS_MAX_OPERATIONS": "4",
    "API_GRAPHQL_WS_MESSAGES_PER_S": "2.5",
    "API_GRAPHQL_WS_MESSAGE_BURST": "9",
    "API_GRAPHIQL": "1",
}


def test_every_setting_is_read_from_its_variable() -> None:
    s = Settings.from_env(ENV)
    assert (s.graphql_max_body_bytes, s.graphql_max_document_bytes, s.graphql_max_tokens) == (2048, 1024, 300)
    assert (s.graphql_max_depth, s.graphql_max_aliases, s.graphql_max_cost, s.graphql_default_list_size) == (
        5,
        3,
        777,
        7,
    )
    assert (s.graphql_ws_max_operations, s.graphql_ws_messages_per_s, s.graphql_ws_message_burst) == (4, 2.5, 9)
    assert s.graphiql is True


def test_defaults_match_the_reference_page() -> None:
    s = Settings.from_env({})
    assert s.graphiql is False
    page = DOC.read_text()
    for name in ENV:
        assert f"`{name}`" in page, f"{name} is not documented in docs/api-limits.md"
    for value in (s.graphql_max_document_bytes, s.graphql_max_cost, s.graphql_max_body_bytes):
        assert f"{value:,}" in page
