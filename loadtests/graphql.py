"""The GraphQL POST both Locust scenarios use: every answer checked, failures reported to Locust's stats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from locust.clients import HttpSession

Check = Callable[[dict[str, Any]], str | None]
"""Looks at a successful answer's data; returns what is wrong with it, or None."""


def gql(
    client: HttpSession,
    name: str,
    query: str,
    variables: dict[str, Any],
    token: str | None = None,
    check: Check | None = None,
) -> dict[str, Any] | None:
    """POST one operation named ``graphql <name>`` in the stats; return ``data``, or None after reporting a
    failure ."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    with client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        name=f"graphql {name}",
        catch_response=True,
    ) as res:
        if res.status_code != 200:
            res.failure(f"HTTP {res.status_code}: {res.text[:200]}")
            return None
        try:
            body = res.json()
        except ValueError:
            res.failure("answer is not JSON")
            return None
        if body.get("errors"):
            res.failure(describe_errors(body["errors"]))
            return None
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            res.failure("answer has no data")
            return None
        problem = check(data) if check else None
        if problem:
            res.failure(problem)
            return None
        res.success()
        return data


def describe_errors(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{e.get('extensions', {}).get('code')}: {e.get('message')}" for e in errors)
