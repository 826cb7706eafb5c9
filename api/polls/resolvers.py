"""GraphQL entry points of api/polls. The schema merges every type listed in QUERIES / MUTATIONS / SUBSCRIPTIONS."""

from __future__ import annotations

QUERIES: tuple[type, ...] = ()
MUTATIONS: tuple[type, ...] = ()
SUBSCRIPTIONS: tuple[type, ...] = ()
