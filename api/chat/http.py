"""Plain HTTP routes of api/chat (file upload and download); `create_app` mounts every handler in ROUTES."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
