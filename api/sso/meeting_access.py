"""The join-time rule of meetings that require single sign-on (turned on in ``api/sso/meetings.py``): pure, on
what the join's one statement already read (``api.participants.store.for_join``), so a join costs no query more."""

from __future__ import annotations

from api.errors import ForbiddenError
from api.settings import Settings
from api.sso.providers import provider_named


def check_join(settings: Settings, *, required_provider: str | None, member: bool, is_owner: bool) -> None:
    """FORBIDDEN unless the meeting needs no single sign-on, the joiner is its owner, or the joiner's account
    has an identity at the required provider (guests never do)."""
    if required_provider is None or is_owner or member:
        return
    p = provider_named(settings.oidc_providers, required_provider)
    label = (p.label or p.name) if p is not None else required_provider
    raise ForbiddenError(
        f"this meeting is only for people signed in with their {label} company account; "
        "sign in with your company account to join"
    )
