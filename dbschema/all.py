"""Every table module, imported so ``Base.metadata`` is complete (migrations and tests import this)."""

from __future__ import annotations

from dbschema import breakouts, chat, models, polls
from dbschema.models import Base

metadata = Base.metadata
__all__ = ["breakouts", "chat", "metadata", "models", "polls"]
