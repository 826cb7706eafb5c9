"""Tables of api/polls (filled in by its issue work)."""

from __future__ import annotations

from dbschema.models import Base

__all__ = ["Base"]
