"""The chat rules as pure functions: who may address whom (every combination), message text, emoji, visibility."""

from __future__ import annotations

import itertools

import pytest

from api.chat import policy
from api.chat.policy import ChatPolicy
from api.errors import BadInputError, ForbiddenError
from api.participants.permissions import Role

HOSTS = (Role.HOST, Role.COHOST)
OTHERS = (Role.PARTICIPANT, Role.GUEST)


def expected(sender: Role, chat: ChatPolicy, private_chat: bool, recipient: Role | None) -> bool:
    """The table in api/chat/policy.py, written out independently."""
    if sender in HOSTS:
        return True
    if chat is ChatPolicy.NO_ONE:
        return False
    if recipient is None:
        return chat is ChatPolicy.EVERYONE
    if recipient in HOSTS:
        return True
    return chat is ChatPolicy.EVERYONE and private_chat


@pytest.mark.parametrize(
    ("sender", "chat", "private_chat", "recipient"),
    list(itertools.product(Role, ChatPolicy, (True, False), (None, *Role))),
)
def test_every_combination_follows_the_table(
    sender: Role, chat: ChatPolicy, private_chat: bool, recipient: Role | None
) -> None:
    if expected(sender, chat, private_chat, recipient):
        policy.check_send(sender, chat, private_chat, recipient)
    else:
        with pytest.raises(ForbiddenError):
            policy.check_send(sender, chat, private_chat, recipient)


def test_forbidden_messages_say_why() -> None:
    with pytest.raises(ForbiddenError, match="turned chat off; you cannot react"):
        policy.check_send(Role.GUEST, ChatPolicy.NO_ONE, True, None, verb="react")
    with pytest.raises(ForbiddenError, match="private chat off"):
        policy.check_send(Role.PARTICIPANT, ChatPolicy.EVERYONE, False, Role.GUEST)


def test_may_chat_at_all() -> None:
    for role, chat in itertools.product(Role, ChatPolicy):
        assert policy.may_chat_at_all(role, chat) == (role in HOSTS or chat is not ChatPolicy.NO_ONE)


def test_text_is_kept_verbatim_within_the_limit() -> None:
    for text in ["  padded  ", "<b>x</b> https://a.test/?q=1&r=2", "line\r\nline\ttab", "é" * 4096, "😀" * 4096]:
        assert policy.message_text(text, allow_empty=False) == text
    assert policy.message_text("", allow_empty=True) == ""


@pytest.mark.parametrize(
    ("text", "allow_empty"),
    [
        ("x" * 4097, True),
        ("", False),
        (" \n\t", False),
        ("a\x00b", True),
        ("\x02marked\x03", True),
        ("\x1b[31mred", True),
    ],
)
def test_bad_text_names_the_field(text: str, allow_empty: bool) -> None:
    with pytest.raises(BadInputError) as err:
        policy.message_text(text, allow_empty=allow_empty)
    assert err.value.field == "text"


@pytest.mark.parametrize("emoji", ["👍", "❤️", "👍🏽", "👨‍👩‍👧", "🇫🇷", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🎉", "✅"])
def test_emoji_accepted(emoji: str) -> None:
    assert policy.chat_reaction(emoji) == emoji


@pytest.mark.parametrize("value", ["", "a", "1", "👍 👍", "👍a", ":+1:", "<b>", "\u200d", "🏽", "👍" * 17, "©"])
def test_non_emoji_refused(value: str) -> None:
    with pytest.raises(BadInputError) as err:
        policy.chat_reaction(value)
    assert err.value.field == "emoji"


def test_meeting_reactions_are_a_fixed_set() -> None:
    for e in policy.MEETING_REACTIONS:
        assert policy.meeting_reaction(e) == e and policy.is_emoji(e)
    with pytest.raises(BadInputError):
        policy.meeting_reaction("🍕")


def see(msg: tuple[str, str | None, str | None], viewer: tuple[str | None, bool, str | None]) -> bool:
    (sender, recipient, room), (vid, host, vroom) = msg, viewer
    return policy.visible(
        sender_id=sender, recipient_id=recipient, room_id=room, viewer_id=vid, viewer_is_host=host, viewer_room_id=vroom
    )


def test_visibility() -> None:
    public, private, in_room = ("a", None, None), ("a", "b", None), ("a", None, "r1")
    assert all(see(public, v) for v in [("c", False, None), ("c", False, "r1"), (None, True, None)])
    assert see(private, ("a", False, None)) and see(private, ("b", False, "r2"))
    assert not see(private, ("c", False, None)) and not see(private, ("h", True, None))  # not even hosts
    assert not see(private, (None, True, None))  # nor the owner from outside the call
    assert see(in_room, ("c", False, "r1")) and see(in_room, ("h", True, None)) and see(in_room, ("a", False, None))
    assert not see(in_room, ("c", False, None)) and not see(in_room, ("c", False, "r2"))
