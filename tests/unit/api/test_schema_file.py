from __future__ import annotations

from pathlib import Path

from api.graphql.export import sdl

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "api" / "schema.graphql"


def test_checked_in_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text() == sdl(), "api/schema.graphql is stale: run `just schema` and commit it"
