"""Identifier types. All ids are opaque URL-safe strings; meeting *numbers* are the human-friendly digits."""

from __future__ import annotations

import secrets
from typing import NewType

UserId = NewType("UserId", str)
MeetingId = NewType("MeetingId", str)
ParticipantId = NewType("ParticipantId", str)
GuestId = NewType("GuestId", str)


def new_id() -> str:
    """128 random bits, URL-safe, 22 characters: unguessable, so an id alone grants nothing but is safe to show."""
    return secrets.token_urlsafe(16)
