"""The host-control permission matrix, checked through GraphQL for every action and every role.

The expected matrix below is this test's own copy of the policy (it deliberately does not import
`api.participants.permissions`), so a wrong policy in the code fails here. docs/permissions.md documents the
same matrix; `test_docs_table_matches_the_expected_matrix` keeps the two from drifting.

Every case stages a fresh meeting: the host joins first, then a co-host (made with makeCohost), a signed-in
participant, a guest and a signed-in target; some actions need more (a waiting room with people in it, raised
hands, a locked meeting...). The case snapshots the meeting as a co-host sees it, runs the action as the role
under test, snapshots again and compares: an allowed action must change exactly what it should, a refused one
must fail with FORBIDDEN and change nothing (not even the event sequence).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RunningServer
from tests.support.gql import Client, GraphQLError
from tests.support.world import Person, World

# -- the expected policy ------------------------------------------------------------------------------------

HOST, COHOST, PARTICIPANT, GUEST = "host", "cohost", "participant", "guest"
ROLES = (HOST, COHOST, PARTICIPANT, GUEST)
_STAFF = frozenset({HOST, COHOST})
_HOST_ONLY = frozenset({HOST})

# mutation → roles that may run it. Everyone else gets FORBIDDEN.
EXPECTED: dict[str, frozenset[str]] = {
    "admitParticipant": _STAFF,
    "denyParticipant": _STAFF,
    "admitAll": _STAFF,
    "denyAll": _STAFF,
    "muteParticipant": _STAFF,
    "muteAll": _STAFF,
    "askToUnmute": _STAFF,
    "stopVideo": _STAFF,
    "removeParticipant": _STAFF,
    "lockMeeting": _STAFF,
    "unlockMeeting": _STAFF,
    "makeCohost": _HOST_ONLY,
    "revokeCohost": _HOST_ONLY,
    "transferHost": _HOST_ONLY,
    "spotlight": _STAFF,
    "renameParticipant": _STAFF,
    "lowerHand": _STAFF,
    "lowerAllHands": _STAFF,
    "setWaitingRoom": _STAFF,
    "setAllowSelfUnmute": _STAFF,
    "updateMeeting": _HOST_ONLY,
    "endMeeting": _HOST_ONLY,
    "allowLocalRecording": _STAFF,
}

# Actions aimed at one person that a co-host may not aim at the host.
NOT_ON_HOST = (
    "muteParticipant",
    "askToUnmute",
    "stopVideo",
    "removeParticipant",
    "renameParticipant",
    "lowerHand",
)

# -- GraphQL ------------------------------------------------------------------------------------------------

STATE = """query($id: ID!) { meeting(id: $id) {
  title status locked eventSeq spotlightParticipantId settings { waitingRoom allowSelfUnmute }
  participants(states: [WAITING, ADMITTED, LEFT, DENIED, REMOVED]) {
    id role state audioMuted mutedByHost videoOn handRaisedAt displayName localRecordingGranted } } }"""

MAKE_COHOST = "mutation($p: ID!) { makeCohost(participantId: $p) { id role } }"
MUTE = "mutation($p: ID!) { muteParticipant(participantId: $p) { id } }"
LOCK = "mutation($m: ID!) { lockMeeting(meetingId: $m) { id } }"
WAITING_ROOM = "mutation($m: ID!, $on: Boolean!) { setWaitingRoom(meetingId: $m, enabled: $on) { id } }"
SELF_UNMUTE = "mutation($m: ID!, $ok: Boolean!) { setAllowSelfUnmute(meetingId: $m, allowed: $ok) { id } }"
RAISE_HAND = "mutation($m: ID!) { raiseHand(meetingId: $m) { id handRaisedAt } }"
MY_MEDIA = "mutation($m: ID!, $i: UpdateMyMediaInput!) { updateMyMedia(meetingId: $m, input: $i) { id audioMuted } }"
RENAME = "mutation($p: ID!, $n: String!) { renameParticipant(participantId: $p, displayName: $n) { id displayName } }"
TRANSFER = "mutation($p: ID!) { transferHost(participantId: $p) { id role } }"
JOIN = "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { status participant { id state } } }"

Snapshot = dict[str, Any]


# -- the cast: signed-up users, made once per backend ---------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    world: World
    host: Person
    cohost: Person
    participant: Person
    target: Person
    outsider: Person
    foreign_guest: Person
    """A guest admitted to another meeting: authenticated, but a stranger to every staged one."""


@pytest.fixture(scope="module")
async def cast(server: RunningServer, http: httpx.AsyncClient) -> Cast:
    """Signing up costs an argon2 hash, so the users are shared by every case on a backend; meetings are not."""
    world = World(Client(server.url, http))
    outsider = await world.user("Otto Outsider")
    elsewhere = await world.meeting(outsider, "Elsewhere", joinBeforeHost=True)
    foreign_guest, joined = await world.join(None, elsewhere, name="Fay Foreign")
    assert joined["status"] == "ADMITTED"
    return Cast(
        world=world,
        host=await world.user("Hana Host"),
        cohost=await world.user("Cole Cohost"),
        participant=await world.user("Pat Participant"),
        target=await world.user("Tess Target"),
        outsider=outsider,
        foreign_guest=foreign_guest,
    )


@dataclass
class Scene:
    """One fresh, live meeting with everybody in it. Persons are per-scene copies carrying participant ids."""

    world: World
    meeting_id: str
    number: str
    host: Person
    cohost: Person
    participant: Person
    guest: Person
    target: Person
    outsider: Person
    waiting: list[Person] = field(default_factory=list)

    def as_role(self, role: str) -> Person:
        return {HOST: self.host, COHOST: self.cohost, PARTICIPANT: self.participant, GUEST: self.guest}[role]


def pid(person: Person) -> str:
    assert person.participant_id is not None
    return person.participant_id


async def stage(cast: Cast) -> Scene:
    world = cast.world
    m = await world.meeting(cast.host, "Permissions")
    host, _ = await world.join(replace(cast.host), m)
    cohost, _ = await world.join(replace(cast.cohost), m)
    await host.client(MAKE_COHOST, p=pid(cohost))
    participant, _ = await world.join(replace(cast.participant), m)
    guest, _ = await world.join(None, m, name="Gus Guest")
    target, joined = await world.join(replace(cast.target), m)
    assert joined["status"] == "ADMITTED"
    return Scene(world, m["id"], m["number"], host, cohost, participant, guest, target, replace(cast.outsider))


async def observe(scene: Scene) -> tuple[Snapshot, int]:
    """The meeting as a co-host sees it (the co-host keeps that role whatever the action), and its event seq."""
    m: Snapshot = (await scene.cohost.client(STATE, id=scene.meeting_id))["meeting"]
    seq: int = m.pop("eventSeq")
    m["participants"] = {p.pop("id"): p for p in m["participants"]}
    return m, seq


def who(snap: Snapshot, person: Person) -> dict[str, Any]:
    p: dict[str, Any] = snap["participants"][pid(person)]
    return p


# -- what each action needs, how it is called and what it changes ---------------------------------------------


@dataclass(frozen=True)
class Spec:
    document: str
    variables: Callable[[Scene], dict[str, Any]]
    effect: Callable[[Scene, Snapshot], None]
    """Apply the action's expected effect to a copy of the snapshot taken before it."""
    prepare: Callable[[Scene], Awaitable[None]] | None = None
    probe: Callable[[Scene], Awaitable[bool]] | None = None
    """For effects a snapshot cannot show: True if the effect is there."""


async def _waiting_room_with_two(scene: Scene) -> None:
    await scene.host.client(WAITING_ROOM, m=scene.meeting_id, on=True)
    for name in ("Wendy Waiting", "Walt Waiting"):
        person, joined = await scene.world.join(None, {"number": scene.number}, name=name)
        assert joined["status"] == "WAITING"
        scene.waiting.append(person)


async def _raise_hands(scene: Scene) -> None:
    for person in (scene.target, scene.participant):
        await person.client(RAISE_HAND, m=scene.meeting_id)


async def _lock(scene: Scene) -> None:
    await scene.host.client(LOCK, m=scene.meeting_id)


async def _target_is_cohost(scene: Scene) -> None:
    await scene.host.client(MAKE_COHOST, p=pid(scene.target))


async def _target_video_on(scene: Scene) -> None:
    await scene.target.client(MY_MEDIA, m=scene.meeting_id, i={"videoOn": True})


async def _target_muted_without_self_unmute(scene: Scene) -> None:
    await scene.host.client(MUTE, p=pid(scene.target))
    await scene.host.client(SELF_UNMUTE, m=scene.meeting_id, ok=False)


async def _target_may_unmute(scene: Scene) -> bool:
    """Asked to unmute, the target may unmute even though self-unmute is off."""
    try:
        p = (await scene.target.client(MY_MEDIA, m=scene.meeting_id, i={"audioMuted": False}))["updateMyMedia"]
    except GraphQLError as exc:
        assert exc.code == "FORBIDDEN", exc
        return False
    assert p["audioMuted"] is False
    return True


async def _target_is_blocked(scene: Scene) -> bool:
    """Removed (with the default block), the target cannot come back."""
    try:
        await scene.target.client(JOIN, i={"number": scene.number})
    except GraphQLError as exc:
        assert exc.code == "FORBIDDEN", exc
        return True
    return False


def _set(person: Callable[[Scene], Person], **changes: Any) -> Callable[[Scene, Snapshot], None]:
    def apply(scene: Scene, snap: Snapshot) -> None:
        who(snap, person(scene)).update(changes)

    return apply


def _meeting(**changes: Any) -> Callable[[Scene, Snapshot], None]:
    def apply(scene: Scene, snap: Snapshot) -> None:
        for key, value in changes.items():
            if key in ("waitingRoom", "allowSelfUnmute"):
                snap["settings"][key] = value
            else:
                snap[key] = value

    return apply


def _target(scene: Scene) -> Person:
    return scene.target


def _first_waiting(scene: Scene) -> Person:
    return scene.waiting[0]


def _all_waiting(state: str) -> Callable[[Scene, Snapshot], None]:
    def apply(scene: Scene, snap: Snapshot) -> None:
        for person in scene.waiting:
            who(snap, person)["state"] = state

    return apply


def _mute_all(scene: Scene, snap: Snapshot) -> None:
    for person in (scene.participant, scene.guest, scene.target):
        who(snap, person).update(audioMuted=True, mutedByHost=True)


def _lower_all(scene: Scene, snap: Snapshot) -> None:
    for p in snap["participants"].values():
        p["handRaisedAt"] = None


def _transfer(scene: Scene, snap: Snapshot) -> None:
    who(snap, scene.host)["role"] = "PARTICIPANT"
    who(snap, scene.target)["role"] = "HOST"


def _end(scene: Scene, snap: Snapshot) -> None:
    snap.update(status="ENDED", locked=False, spotlightParticipantId=None)
    for p in snap["participants"].values():
        if p["state"] in ("WAITING", "ADMITTED"):
            p.update(state="LEFT", handRaisedAt=None)


def _on_target(scene: Scene) -> dict[str, Any]:
    return {"p": pid(scene.target)}


def _on_meeting(scene: Scene) -> dict[str, Any]:
    return {"m": scene.meeting_id}


SPECS: dict[str, Spec] = {
    "admitParticipant": Spec(
        "mutation($p: ID!) { admitParticipant(participantId: $p) { id } }",
        lambda s: {"p": pid(s.waiting[0])},
        _set(_first_waiting, state="ADMITTED"),
        prepare=_waiting_room_with_two,
    ),
    "denyParticipant": Spec(
        "mutation($p: ID!) { denyParticipant(participantId: $p) { id } }",
        lambda s: {"p": pid(s.waiting[0])},
        _set(_first_waiting, state="DENIED"),
        prepare=_waiting_room_with_two,
    ),
    "admitAll": Spec(
        "mutation($m: ID!) { admitAll(meetingId: $m) { id } }",
        _on_meeting,
        _all_waiting("ADMITTED"),
        prepare=_waiting_room_with_two,
    ),
    "denyAll": Spec(
        "mutation($m: ID!) { denyAll(meetingId: $m) { id } }",
        _on_meeting,
        _all_waiting("DENIED"),
        prepare=_waiting_room_with_two,
    ),
    "muteParticipant": Spec(MUTE, _on_target, _set(_target, audioMuted=True, mutedByHost=True)),
    "muteAll": Spec("mutation($m: ID!) { muteAll(meetingId: $m) { id } }", _on_meeting, _mute_all),
    "askToUnmute": Spec(
        "mutation($p: ID!) { askToUnmute(participantId: $p) { id } }",
        _on_target,
        lambda s, snap: None,  # nothing a query shows: the probe checks the target may now unmute
        prepare=_target_muted_without_self_unmute,
        probe=_target_may_unmute,
    ),
    "stopVideo": Spec(
        "mutation($p: ID!) { stopVideo(participantId: $p) { id } }",
        _on_target,
        _set(_target, videoOn=False),
        prepare=_target_video_on,
    ),
    "removeParticipant": Spec(
        "mutation($p: ID!) { removeParticipant(participantId: $p) { id } }",
        _on_target,
        _set(_target, state="REMOVED"),
        probe=_target_is_blocked,
    ),
    "lockMeeting": Spec(LOCK, _on_meeting, _meeting(locked=True)),
    "unlockMeeting": Spec(
        "mutation($m: ID!) { unlockMeeting(meetingId: $m) { id } }",
        _on_meeting,
        _meeting(locked=False),
        prepare=_lock,
    ),
    "makeCohost": Spec(MAKE_COHOST, _on_target, _set(_target, role="COHOST")),
    "revokeCohost": Spec(
        "mutation($p: ID!) { revokeCohost(participantId: $p) { id } }",
        _on_target,
        _set(_target, role="PARTICIPANT"),
        prepare=_target_is_cohost,
    ),
    "transferHost": Spec(TRANSFER, _on_target, _transfer),
    "spotlight": Spec(
        "mutation($m: ID!, $p: ID) { spotlight(meetingId: $m, participantId: $p) { id } }",
        lambda s: {"m": s.meeting_id, "p": pid(s.target)},
        lambda s, snap: snap.update(spotlightParticipantId=pid(s.target)),
    ),
    "renameParticipant": Spec(
        RENAME,
        lambda s: {"p": pid(s.target), "n": "Renamed Target"},
        _set(_target, displayName="Renamed Target"),
    ),
    "lowerHand": Spec(
        "mutation($p: ID!) { lowerHand(participantId: $p) { id } }",
        _on_target,
        _set(_target, handRaisedAt=None),
        prepare=_raise_hands,
    ),
    "lowerAllHands": Spec(
        "mutation($m: ID!) { lowerAllHands(meetingId: $m) { id } }",
        _on_meeting,
        _lower_all,
        prepare=_raise_hands,
    ),
    "setWaitingRoom": Spec(
        WAITING_ROOM,
        lambda s: {"m": s.meeting_id, "on": True},
        _meeting(waitingRoom=True),
    ),
    "setAllowSelfUnmute": Spec(
        SELF_UNMUTE,
        lambda s: {"m": s.meeting_id, "ok": False},
        _meeting(allowSelfUnmute=False),
    ),
    "updateMeeting": Spec(
        "mutation($id: ID!, $i: UpdateMeetingInput!) { updateMeeting(id: $id, input: $i) { id } }",
        lambda s: {"id": s.meeting_id, "i": {"title": "Retitled"}},
        _meeting(title="Retitled"),
    ),
    "allowLocalRecording": Spec(
        "mutation($p: ID!) { allowLocalRecording(participantId: $p, allowed: true) { id } }",
        _on_target,
        _set(_target, localRecordingGranted=True),
    ),
    "endMeeting": Spec(
        "mutation($id: ID!) { endMeeting(id: $id) { id } }",
        lambda s: {"id": s.meeting_id},
        _end,
    ),
}


async def attempt(scene: Scene, spec: Spec, client: Client, *, expect_error: str | None) -> None:
    """Run the action as ``client``; assert it has its effect, or fails with ``expect_error`` and has none."""
    if spec.prepare is not None:
        await spec.prepare(scene)
    before, seq_before = await observe(scene)
    expected = copy.deepcopy(before)
    spec.effect(scene, expected)
    if expect_error is None:
        assert spec.probe is not None or expected != before, "an allowed action must have a visible effect"

    variables = spec.variables(scene)
    if expect_error is None:
        await client(spec.document, **variables)
    else:
        err = await client.error(spec.document, **variables)
        assert err.code == expect_error, err

    after, seq_after = await observe(scene)
    if expect_error is None:
        assert after == expected
        assert seq_after > seq_before, "an allowed action emits an event"
    else:
        assert after == before, "a refused action must change nothing"
        assert seq_after == seq_before, "a refused action must emit no event"
    if spec.probe is not None:
        assert await spec.probe(scene) is (expect_error is None)


# -- the matrix ---------------------------------------------------------------------------------------------

CASES = [pytest.param(action, role, id=f"{action}-{role}") for action in EXPECTED for role in ROLES]


def test_every_action_has_a_spec() -> None:
    assert set(SPECS) == set(EXPECTED)
    assert all(set(roles) <= set(ROLES) for roles in EXPECTED.values())


@pytest.mark.parametrize(("action", "role"), CASES)
async def test_permission_matrix(cast: Cast, action: str, role: str) -> None:
    scene = await stage(cast)
    allowed = role in EXPECTED[action]
    await attempt(scene, SPECS[action], scene.as_role(role).client, expect_error=None if allowed else "FORBIDDEN")


@pytest.mark.parametrize("action", list(EXPECTED))
async def test_strangers_are_refused(cast: Cast, action: str) -> None:
    """A signed-in user who never joined and a guest of another meeting get FORBIDDEN; nobody at all gets
    UNAUTHENTICATED. One meeting per action: after all three attempts nothing may have changed."""
    scene = await stage(cast)
    spec = SPECS[action]
    if spec.prepare is not None:
        await spec.prepare(scene)
    before = await observe(scene)
    strangers = [
        ("non-member", scene.outsider.client, "FORBIDDEN"),
        ("guest of another meeting", cast.foreign_guest.client, "FORBIDDEN"),
        ("anonymous", cast.world.anon, "UNAUTHENTICATED"),
    ]
    codes = {label: (await client.error(spec.document, **spec.variables(scene))).code for label, client, _ in strangers}
    assert codes == {label: code for label, _, code in strangers}
    assert await observe(scene) == before, "a refused action must change nothing"
    if spec.probe is not None:
        assert await spec.probe(scene) is False


async def test_people_still_in_the_waiting_room_are_refused(cast: Cast) -> None:
    """Waiting is not being in the meeting: a waiting user and a waiting guest may run no host control."""
    scene = await stage(cast)
    await _waiting_room_with_two(scene)
    waiting_user, joined = await scene.world.join(scene.outsider, {"number": scene.number})
    assert joined["status"] == "WAITING"
    before = await observe(scene)
    for person in (waiting_user, scene.waiting[0]):
        for action, spec in SPECS.items():
            err = await person.client.error(spec.document, **spec.variables(scene))
            assert err.code == "FORBIDDEN", (person.name, action, err)
    assert await observe(scene) == before


# -- rules beyond the matrix --------------------------------------------------------------------------------


async def _host_hand_up(scene: Scene) -> None:
    await scene.host.client(RAISE_HAND, m=scene.meeting_id)


async def _host_video_on(scene: Scene) -> None:
    await scene.host.client(MY_MEDIA, m=scene.meeting_id, i={"videoOn": True})


async def _host_muted(scene: Scene) -> None:
    await scene.host.client(MY_MEDIA, m=scene.meeting_id, i={"audioMuted": True})


ON_HOST: dict[str, Spec] = {
    name: replace(
        SPECS[name],
        variables=lambda s, _v=SPECS[name].variables: {**_v(s), "p": pid(s.host)},
        prepare={"lowerHand": _host_hand_up, "stopVideo": _host_video_on, "askToUnmute": _host_muted}.get(name),
        probe=None,
        effect=lambda s, snap: None,
    )
    for name in NOT_ON_HOST
}


@pytest.mark.parametrize("action", NOT_ON_HOST)
async def test_a_cohost_cannot_act_on_the_host(cast: Cast, action: str) -> None:
    scene = await stage(cast)
    await attempt(scene, ON_HOST[action], scene.cohost.client, expect_error="FORBIDDEN")


@pytest.mark.parametrize("role", ROLES)
async def test_anyone_may_rename_themselves(cast: Cast, role: str) -> None:
    scene = await stage(cast)
    me = scene.as_role(role)
    before, _ = await observe(scene)
    renamed = (await me.client(RENAME, p=pid(me), n="  Brand New Name "))["renameParticipant"]
    assert renamed == {"id": pid(me), "displayName": "Brand New Name"}
    after, _ = await observe(scene)
    expected = copy.deepcopy(before)
    who(expected, me)["displayName"] = "Brand New Name"
    assert after == expected


async def test_a_guest_cannot_become_host(cast: Cast) -> None:
    scene = await stage(cast)
    before, seq = await observe(scene)
    err = await scene.host.client.error(TRANSFER, p=pid(scene.guest))
    assert (err.code, err.field) == ("BAD_INPUT", "participantId"), err
    assert await observe(scene) == (before, seq)


# -- the documentation ----------------------------------------------------------------------------------------

_MARKS = {"✓": True, "—": False}
_COLUMNS = {"host": HOST, "co-host": COHOST, "participant": PARTICIPANT, "guest": GUEST}


def parse_docs_matrix(text: str) -> dict[str, frozenset[str]]:
    """The table in docs/permissions.md whose header has a Mutation column and one column per role."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.strip().startswith("|")
    ]
    header_at = next(i for i, r in enumerate(rows) if "mutation" in [c.lower() for c in r])
    header = [c.lower() for c in rows[header_at]]
    assert set(_COLUMNS) <= set(header), header
    col = {role: header.index(name) for name, role in _COLUMNS.items()}
    mutation_col = header.index("mutation")
    matrix: dict[str, frozenset[str]] = {}
    for row in rows[header_at + 2 :]:  # skip the |---| line
        if len(row) != len(header):
            break
        found = re.fullmatch(r"`(\w+)`", row[mutation_col])
        assert found, f"mutation cell must be `name`: {row}"
        name = found.group(1)
        assert name not in matrix, f"{name} listed twice"
        for role, i in col.items():
            assert row[i] in _MARKS, f"{name}/{role}: use ✓ or —, not {row[i]!r}"
        matrix[name] = frozenset(role for role, i in col.items() if _MARKS[row[i]])
    return matrix


def test_docs_table_matches_the_expected_matrix(repo_root: Path) -> None:
    documented = parse_docs_matrix((repo_root / "docs" / "permissions.md").read_text(encoding="utf-8"))
    assert list(documented) == list(EXPECTED)  # same actions, same order
    assert documented == EXPECTED
    sdl = (repo_root / "api" / "schema.graphql").read_text(encoding="utf-8")
    mutation_type = sdl.split("type Mutation {", 1)[1].split("\n}", 1)[0]
    for name in EXPECTED:
        assert re.search(rf"^\s+{name}\(", mutation_type, re.M), f"{name} is not a mutation in the schema"


def test_docs_parser_reads_marks() -> None:
    table = """
| Mutation | Meaning | Host | Co-host | Participant | Guest |
|---|---|:-:|:-:|:-:|:-:|
| `lockMeeting` | Lock | ✓ | — | — | ✓ |
"""
    assert parse_docs_matrix(table) == {"lockMeeting": frozenset({HOST, GUEST})}
