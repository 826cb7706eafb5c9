"""The link people are invited with (shared by the meetings and calendars services)."""

from __future__ import annotations

from api.services import Services
from dbschema.models import Meeting


def page_url(svc: Services, m: Meeting) -> str:
    """The meeting's page: whoever opens it is asked for the passcode, if it has one."""
    return f"{svc.settings.base_url}/m/{m.number}"


def invite_link(svc: Services, m: Meeting) -> str:
    """The link to share: the meeting's page, plus the key that stands in for its passcode when it has one."""
    url = page_url(svc, m)
    if m.passcode_hash:
        url += f"?k={svc.creds.invite_key(m.id, m.passcode_hash)}"
    return url
