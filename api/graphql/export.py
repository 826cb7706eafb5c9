"""Print the schema's SDL (``just schema`` writes it to api/schema.graphql; a test keeps that file current)."""

from __future__ import annotations

from api.graphql.schema import schema


def sdl() -> str:
    return schema.as_str() + "\n"


if __name__ == "__main__":
    print(sdl(), end="")
