from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.type(description="A short-lived link to your data as a zip (data.json plus recording files).")
class DataExport:
    url: str = strawberry.field(description="GET it (no token needed: the link is the permission) before expiresAt.")
    expires_at: datetime


@strawberry.type
class PrivacySettings:
    recording_retention_days: int | None = strawberry.field(
        description="Recordings of your meetings are deleted this many days after they started; null: the "
        "server's default applies (which may be: keep forever)."
    )
