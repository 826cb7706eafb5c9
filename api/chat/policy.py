"""Who may chat with whom, and what a message or reaction may contain. Pure functions, no I/O.

The host's two switches (``Meeting.chat_policy`` and ``Meeting.private_chat``) bind participants and guests;
the host and co-hosts may always chat, publicly or privately, with anyone (they moderate):

==============  ==================  ======================================  =================================
chat_policy     to everyone         privately to a host or co-host          privately to another participant
==============  ==================  ======================================  =================================
``everyone``    yes                 yes (even with private chat off)        only with private chat on
``host_only``   no                  yes (the one channel this policy keeps) no
``no_one``      no                  no                                      no
==============  ==================  ======================================  =================================

"Private chat off" stops participants talking privately among themselves; it never cuts them off from the
people running the meeting (as in the common meeting products). Reacting to a message needs the same right as
sending to that message's audience, and editing one needs it still: a participant silenced by ``no_one`` can
delete their messages but not edit them.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from api.errors import BadInputError, ForbiddenError
from api.participants.permissions import HOSTS, Role

MAX_TEXT = 4096
"""Characters (code points) per message."""

MEETING_REACTIONS: tuple[str, ...] = ("👏", "👍", "❤️", "😂", "😮", "🎉")
"""The ephemeral in-meeting reactions (`sendReaction`): a small fixed set, like the usual meeting toolbars."""

_ALLOWED_CONTROL = frozenset("\n\r\t")


class ChatPolicy(StrEnum):
    EVERYONE = "everyone"
    HOST_ONLY = "host_only"
    NO_ONE = "no_one"


def check_send(
    sender: Role, policy: ChatPolicy, private_chat: bool, recipient: Role | None, *, verb: str = "send messages"
) -> None:
    """Raise FORBIDDEN unless ``sender`` may address ``recipient`` (None: everyone) under the meeting's settings."""
    if sender in HOSTS:
        return
    if policy is ChatPolicy.NO_ONE:
        raise ForbiddenError(f"the host has turned chat off; you cannot {verb}")
    if recipient is None:
        if policy is ChatPolicy.HOST_ONLY:
            raise ForbiddenError(f"the host allows chat with the host and co-hosts only; you cannot {verb} to everyone")
        return
    if recipient in HOSTS:
        return
    if policy is ChatPolicy.HOST_ONLY:
        raise ForbiddenError(f"the host allows chat with the host and co-hosts only; you cannot {verb} to participants")
    if not private_chat:
        raise ForbiddenError(f"the host has turned private chat off; you cannot {verb} privately to participants")


def may_chat_at_all(sender: Role, policy: ChatPolicy) -> bool:
    return sender in HOSTS or policy is not ChatPolicy.NO_ONE


def message_text(value: str, *, allow_empty: bool, field: str = "text") -> str:
    """The text as sent (no trimming, no normalisation, no markup: links stay plain text), if acceptable.

    Control characters other than line breaks and tabs are refused: they have no place in chat, PostgreSQL
    cannot store NUL, and search highlights use two of them as markers (see `api.chat.search`)."""
    if len(value) > MAX_TEXT:
        raise BadInputError(field, f"{field} must be at most {MAX_TEXT} characters (got {len(value)})")
    if not allow_empty and not value.strip():
        raise BadInputError(field, f"{field} must not be empty")
    for c in value:
        if c not in _ALLOWED_CONTROL and unicodedata.category(c) == "Cc":
            raise BadInputError(field, f"{field} must not contain control characters (got U+{ord(c):04X})")
    return value


# Code points that may appear inside one emoji besides pictographs (category So): zero-width joiner,
# variation selector 16, combining keycap, skin-tone modifiers (category Sk) and tag characters (flags of
# subdivisions). Unicode Technical Standard #51, section 1.4.
_EMOJI_JOINERS = frozenset({0x200D, 0xFE0F, 0x20E3})
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_TAGS = range(0xE0020, 0xE0080)


def is_emoji(value: str) -> bool:
    """A single emoji sequence (approximately: pictographs joined by ZWJ, with modifiers), nothing else."""
    if not value or len(value) > 16:
        return False
    pictographs = 0
    for c in value:
        cp = ord(c)
        if cp in _EMOJI_JOINERS or cp in _SKIN_TONES or cp in _TAGS:
            continue
        if unicodedata.category(c) == "So" and cp >= 0x2000:
            pictographs += 1
            continue
        return False
    return pictographs >= 1


def chat_reaction(value: str) -> str:
    if not is_emoji(value):
        raise BadInputError("emoji", f"emoji must be a single emoji (got {value[:20]!r})")
    return value


def meeting_reaction(value: str) -> str:
    if value not in MEETING_REACTIONS:
        raise BadInputError("emoji", f"emoji must be one of {' '.join(MEETING_REACTIONS)} (got {value[:20]!r})")
    return value


def visible(
    *,
    sender_id: str,
    recipient_id: str | None,
    room_id: str | None,
    viewer_id: str | None,
    viewer_is_host: bool,
    viewer_room_id: str | None,
) -> bool:
    """Whether a viewer may see a message (`store._visible` is the same rule in SQL). Private messages: only
    their two parties, never the hosts. Breakout-room messages: that room, the host and co-hosts, and their sender
    (who may have moved on since)."""
    mine = viewer_id is not None and viewer_id == sender_id
    if recipient_id is not None and not (mine or viewer_id == recipient_id):
        return False
    return room_id is None or mine or viewer_is_host or room_id == viewer_room_id
