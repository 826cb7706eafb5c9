"""The configured ``CalendarProvider`` (``API_CALENDAR_PROVIDER``), loaded by import path so ``api`` never imports
``workers``, and shared by this process's connect checks and sync loop (one HTTP client: building one loads the
CA bundle, ~80 ms of CPU)."""

from __future__ import annotations

import importlib

from protocol.calendars import CalendarProvider

_loaded: dict[str, CalendarProvider] = {}


def load(spec: str) -> CalendarProvider:
    module, _, name = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise RuntimeError(f"API_CALENDAR_PROVIDER={spec!r} cannot be loaded: {exc}") from exc
    provider: CalendarProvider = factory()
    return provider


def provider_for(spec: str) -> CalendarProvider:
    if spec not in _loaded:
        _loaded[spec] = load(spec)
    return _loaded[spec]


async def close_all() -> None:
    while _loaded:
        _, provider = _loaded.popitem()
        await provider.aclose()
