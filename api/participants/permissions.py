"""Who may do what. The single source of the permission matrix; docs/permissions.md documents the same policy
and tests/integration/test_permissions.py checks every action for every role against its own copy."""

from __future__ import annotations

from enum import StrEnum

from api.errors import ForbiddenError


class Role(StrEnum):
    HOST = "host"
    COHOST = "cohost"
    PARTICIPANT = "participant"
    GUEST = "guest"


class Action(StrEnum):
    ADMIT = "admit"
    DENY = "deny"
    ADMIT_ALL = "admit_all"
    DENY_ALL = "deny_all"
    MUTE = "mute"
    MUTE_ALL = "mute_all"
    ASK_UNMUTE = "ask_unmute"
    STOP_VIDEO = "stop_video"
    REMOVE = "remove"
    LOCK = "lock"
    UNLOCK = "unlock"
    MAKE_COHOST = "make_cohost"
    REVOKE_COHOST = "revoke_cohost"
    TRANSFER_HOST = "transfer_host"
    SPOTLIGHT = "spotlight"
    RENAME = "rename"
    LOWER_ALL_HANDS = "lower_all_hands"
    LOWER_HAND = "lower_hand"
    SET_WAITING_ROOM = "set_waiting_room"
    SET_SELF_UNMUTE = "set_self_unmute"
    UPDATE_MEETING = "update_meeting"
    END_MEETING = "end_meeting"
    GRANT_LOCAL_RECORDING = "grant_local_recording"


HOSTS = frozenset({Role.HOST, Role.COHOST})
HOST_ONLY = frozenset({Role.HOST})

ALLOWED: dict[Action, frozenset[Role]] = {
    Action.ADMIT: HOSTS,
    Action.DENY: HOSTS,
    Action.ADMIT_ALL: HOSTS,
    Action.DENY_ALL: HOSTS,
    Action.MUTE: HOSTS,
    Action.MUTE_ALL: HOSTS,
    Action.ASK_UNMUTE: HOSTS,
    Action.STOP_VIDEO: HOSTS,
    Action.REMOVE: HOSTS,
    Action.LOCK: HOSTS,
    Action.UNLOCK: HOSTS,
    Action.MAKE_COHOST: HOST_ONLY,
    Action.REVOKE_COHOST: HOST_ONLY,
    Action.TRANSFER_HOST: HOST_ONLY,
    Action.SPOTLIGHT: HOSTS,
    Action.RENAME: HOSTS,
    Action.LOWER_ALL_HANDS: HOSTS,
    Action.LOWER_HAND: HOSTS,
    Action.SET_WAITING_ROOM: HOSTS,
    Action.SET_SELF_UNMUTE: HOSTS,
    Action.UPDATE_MEETING: HOST_ONLY,
    Action.END_MEETING: HOST_ONLY,
    Action.GRANT_LOCAL_RECORDING: HOSTS,
}

# Actions a co-host may not aim at the host (a co-host cannot overrule the person who appointed them).
NOT_ON_HOST = frozenset(
    {Action.MUTE, Action.ASK_UNMUTE, Action.STOP_VIDEO, Action.REMOVE, Action.RENAME, Action.LOWER_HAND}
)


def check(action: Action, role: Role, target_role: Role | None = None) -> None:
    if role not in ALLOWED[action]:
        raise ForbiddenError(f"a {role.value} may not {action.value.replace('_', ' ')}")
    if target_role is Role.HOST and role is not Role.HOST and action in NOT_ON_HOST:
        raise ForbiddenError(f"a {role.value} may not {action.value.replace('_', ' ')} the host")
