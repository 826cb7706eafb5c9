"""The audit log through GraphQL on both databases: every host action writes exactly one row with its stable
name (derived from the events the action emits), participants' own actions write none, recording access and
sign-ins are logged, and only the meeting's owner (or, for sign-ins, the account) can read them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from dbschema.audit import AuditEntry
from tests.conftest import RunningServer
from tests.integration.test_events import live_meeting
from tests.support.gql import Client
from tests.support.world import Person, World

pytestmark = pytest.mark.timeout(90)

ENTRY = "id at action meetingId targetKind targetId details actor { kind userId participantId name clientAddress }"
LOG = f"""query($m: ID!, $f: Int!, $a: String) {{
  auditLog(meetingId: $m, first: $f, after: $a) {{ items {{ {ENTRY} }} nextCursor }} }}"""
MY_LOG = f"query($f: Int!, $a: String) {{ myAuditLog(first: $f, after: $a) {{ items {{ {ENTRY} }} nextCursor }} }}"
LOG_IN = "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }"
P = "{ id }"


async def entries(owner: Person, m: dict[str, Any], first: int = 100) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await owner.client(LOG, m=m["id"], f=first))["auditLog"]["items"]
    return items


class Log:
    """Reads what an action added to the meeting's log."""

    def __init__(self, owner: Person, m: dict[str, Any]) -> None:
        self.owner, self.m, self.seen = owner, m, 0

    async def start(self) -> None:
        items = await entries(self.owner, self.m)
        self.seen = max((int(e["id"]) for e in items), default=0)

    async def added(self) -> list[dict[str, Any]]:
        items = [e for e in await entries(self.owner, self.m) if int(e["id"]) > self.seen]
        self.seen = max([self.seen, *(int(e["id"]) for e in items)])
        return items

    async def one(self, action: str) -> dict[str, Any]:
        items = await self.added()
        assert [e["action"] for e in items] == [action], items
        return items[0]


async def gql(who: Person, op: str, **vars: Any) -> dict[str, Any]:
    return await who.client(op, **vars)


async def test_every_host_action_writes_exactly_one_row(world: World) -> None:
    host, m = await live_meeting(world)
    alice, _ = await world.join(await world.user("Alice"), m)
    bob, _ = await world.join(None, m, name="Bob")
    log = Log(host, m)
    await log.start()
    a, b, mid = alice.participant_id, bob.participant_id, m["id"]

    async def host_does(op: str, action: str, who: Person = host, **vars: Any) -> dict[str, Any]:
        await gql(who, op, **vars)
        return await log.one(action)

    row = await host_does(f"mutation($p: ID!) {{ muteParticipant(participantId: $p) {P} }}", "participant.muted", p=a)
    assert row["targetKind"] == "participant" and row["targetId"] == a and row["meetingId"] == mid
    assert row["actor"]["kind"] == "USER" and row["actor"]["userId"] == host.user_id
    assert row["actor"]["participantId"] == host.participant_id and row["actor"]["name"] == "Host"
    assert row["actor"]["clientAddress"] == "127.0.0.1"  # the owner's own action: address shown
    await host_does(f"mutation($p: ID!) {{ askToUnmute(participantId: $p) {P} }}", "participant.unmute_requested", p=a)
    await host_does(f"mutation($p: ID!) {{ stopVideo(participantId: $p) {P} }}", "participant.video_stopped", p=a)
    await host_does(
        f'mutation($p: ID!) {{ renameParticipant(participantId: $p, displayName: "Al") {P} }}',
        "participant.renamed",
        p=a,
    )
    await gql(alice, f"mutation($m: ID!) {{ raiseHand(meetingId: $m) {P} }}", m=mid)
    assert await log.added() == []  # a participant's own action is not audited
    await host_does(f"mutation($p: ID!) {{ lowerHand(participantId: $p) {P} }}", "participant.hand_lowered", p=a)
    await gql(alice, f"mutation($m: ID!) {{ raiseHand(meetingId: $m) {P} }}", m=mid)
    row = await host_does(
        f"mutation($m: ID!) {{ lowerAllHands(meetingId: $m) {P} }}", "participants.hands_lowered", m=mid
    )
    assert row["details"] == {"count": 1}
    await host_does(f"mutation($m: ID!) {{ muteAll(meetingId: $m) {P} }}", "participants.muted_all", m=mid)
    await host_does(
        f"mutation($m: ID!) {{ setAllowSelfUnmute(meetingId: $m, allowed: false) {P} }}",
        "meeting.self_unmute_forbidden",
        m=mid,
    )
    await host_does(f"mutation($m: ID!) {{ lockMeeting(meetingId: $m) {P} }}", "meeting.locked", m=mid)
    await host_does(f"mutation($m: ID!) {{ unlockMeeting(meetingId: $m) {P} }}", "meeting.unlocked", m=mid)
    row = await host_does(
        f"mutation($m: ID!, $p: ID) {{ spotlight(meetingId: $m, participantId: $p) {P} }}",
        "meeting.spotlight_set",
        m=mid,
        p=a,
    )
    assert row["details"] == {"participantId": a}
    await host_does(f"mutation($m: ID!) {{ spotlight(meetingId: $m) {P} }}", "meeting.spotlight_cleared", m=mid)
    await host_does(f"mutation($p: ID!) {{ makeCohost(participantId: $p) {P} }}", "participant.cohost_granted", p=a)
    # A co-host's action is audited too, with the co-host as actor (address hidden from the owner).
    row = await host_does(
        f"mutation($p: ID!) {{ stopVideo(participantId: $p) {P} }}", "participant.video_stopped", who=alice, p=b
    )
    assert row["actor"]["participantId"] == a and row["actor"]["userId"] == alice.user_id
    assert row["actor"]["name"] == "Al" and row["actor"]["clientAddress"] is None
    # Muting someone muted already (by "mute all") changes nothing, but it was done: a generic row.
    await host_does(f"mutation($p: ID!) {{ muteParticipant(participantId: $p) {P} }}", "participant.updated", p=b)
    await host_does(f"mutation($p: ID!) {{ revokeCohost(participantId: $p) {P} }}", "participant.cohost_revoked", p=a)
    await gql(
        alice,
        "mutation($i: SendChatMessageInput!) { sendChatMessage(input: $i) { id } }",
        i={"meetingId": mid, "text": "hello"},
    )
    assert await log.added() == []
    await host_does(
        "mutation($m: ID!) { setChatPolicy(meetingId: $m, policy: HOST_ONLY) { id } }",
        "meeting.chat_policy_changed",
        m=mid,
    )
    row = await host_does(
        'mutation($m: ID!) { updateMeeting(id: $m, input: {title: "Renamed"}) { id } }',
        "meeting.settings_updated",
        m=mid,
    )
    assert row["details"] == {"fields": ["title"]}

    # The waiting room: joining is nobody's host action; admitting and denying are, one row for "all".
    await host_does(
        f"mutation($m: ID!) {{ setWaitingRoom(meetingId: $m, enabled: true) {P} }}",
        "meeting.waiting_room_enabled",
        m=mid,
    )
    carol, _ = await world.join(None, m, name="Carol")
    dave, _ = await world.join(None, m, name="Dave")
    assert await log.added() == []
    await host_does(
        f"mutation($p: ID!) {{ admitParticipant(participantId: $p) {P} }}",
        "participant.admitted",
        p=carol.participant_id,
    )
    await host_does(
        f"mutation($p: ID!) {{ denyParticipant(participantId: $p) {P} }}", "participant.denied", p=dave.participant_id
    )
    w1, _ = await world.join(None, m, name="W1")
    w2, _ = await world.join(None, m, name="W2")
    row = await host_does(f"mutation($m: ID!) {{ admitAll(meetingId: $m) {P} }}", "participant.admitted", m=mid)
    assert row["details"]["count"] == 2
    assert {row["targetId"], *row["details"]["targetIds"]} == {w1.participant_id, w2.participant_id}
    await world.join(None, m, name="W3")
    await world.join(None, m, name="W4")
    row = await host_does(f"mutation($m: ID!) {{ denyAll(meetingId: $m) {P} }}", "participant.denied", m=mid)
    assert row["details"]["count"] == 2
    await world.join(None, m, name="W5")
    # Turning the waiting room off also lets W5 in: one row, named for what the host did.
    await host_does(
        f"mutation($m: ID!) {{ setWaitingRoom(meetingId: $m, enabled: false) {P} }}",
        "meeting.waiting_room_disabled",
        m=mid,
    )
    row = await host_does(
        f"mutation($p: ID!) {{ removeParticipant(participantId: $p) {P} }}", "participant.removed", p=b
    )
    assert row["details"] == {"blocked": True}
    row = await host_does(f"mutation($p: ID!) {{ transferHost(participantId: $p) {P} }}", "host.transferred", p=a)
    assert row["targetId"] == a
    # The new host (not the owner) ends it: still one row, although everyone leaves in the same transaction.
    row = await host_does("mutation($m: ID!) { endMeeting(id: $m) { id } }", "meeting.ended", who=alice, m=mid)
    assert row["actor"]["participantId"] == a


REC = "id status"


async def test_recording_lifecycle_and_access_are_logged(server: RunningServer, world: World) -> None:
    host, m = await live_meeting(world)
    log = Log(host, m)
    await log.start()
    mid = m["id"]
    rec = (await host.client(f"mutation($m: ID!) {{ startRecording(meetingId: $m) {{ {REC} }} }}", m=mid))[
        "startRecording"
    ]
    row = await log.one("recording.started")
    assert row["targetKind"] == "recording" and row["targetId"] == rec["id"]
    await host.client(f"mutation($m: ID!) {{ pauseRecording(meetingId: $m) {{ {REC} }} }}", m=mid)
    await log.one("recording.paused")
    await host.client(f"mutation($m: ID!) {{ resumeRecording(meetingId: $m) {{ {REC} }} }}", m=mid)
    await log.one("recording.resumed")
    await host.client(f"mutation($m: ID!) {{ stopRecording(meetingId: $m) {{ {REC} }} }}", m=mid)
    await log.one("recording.stopped")
    await host.client('mutation($id: ID!) { renameRecording(id: $id, title: "Weekly") { id } }', id=rec["id"])
    await log.one("recording.renamed")
    await host.client("mutation($id: ID!) { shareRecording(id: $id, expiresInHours: 2) { id } }", id=rec["id"])
    row = await log.one("recording.share_link_created")
    assert row["details"] == {"expiresInHours": 2, "passcode": False}

    files = server.settings.data_dir / "recordings" / rec["id"]
    files.mkdir(parents=True, exist_ok=True)
    (files / "recording.mp4").write_bytes(b"\0" * 64)
    (files / "transcript.srt").write_bytes(b"1\n00:00:00,000 --> 00:00:01,000\nhi\n")
    media = (await host.client("query($id: ID!) { recording(id: $id) { media { name url } } }", id=rec["id"]))[
        "recording"
    ]["media"]
    urls = {f["name"]: f["url"] for f in media}
    http = host.client.http
    assert (await http.get(urls["recording.mp4"])).status_code == 200
    row = await log.one("recording.viewed")
    assert row["actor"]["kind"] == "ANONYMOUS"  # the signed URL is the permission: nobody is signed in
    assert (await http.get(urls["recording.mp4"], headers={"range": "bytes=10-20"})).status_code == 206
    assert await log.added() == []  # a seek is not another view
    assert (await http.get(urls["transcript.srt"])).status_code == 200
    assert (await log.one("recording.downloaded"))["details"] == {"file": "transcript.srt"}

    await host.client("mutation($id: ID!) { deleteRecording(id: $id) }", id=rec["id"])
    await log.one("recording.deleted")

    # Ending a meeting that is being recorded logs both: the end (host action) and the stop (recording).
    await host.client(f"mutation($m: ID!) {{ startRecording(meetingId: $m) {{ {REC} }} }}", m=mid)
    await log.one("recording.started")
    await host.client("mutation($m: ID!) { endMeeting(id: $m) { id } }", m=mid)
    assert sorted(e["action"] for e in await log.added()) == ["meeting.ended", "recording.stopped"]


async def test_only_the_owner_reads_a_meeting_log(world: World, anon: Client) -> None:
    host, m = await live_meeting(world)
    cohost, _ = await world.join(await world.user("Co"), m)
    member, _ = await world.join(await world.user("Member"), m)
    guest, _ = await world.join(None, m, name="Guest")
    stranger = await world.user("Stranger")
    await host.client("mutation($p: ID!) { makeCohost(participantId: $p) { id } }", p=cohost.participant_id)
    assert [e["action"] for e in await entries(host, m)] == ["participant.cohost_granted"]

    missing = await stranger.client.error(LOG, m="0" * 32, f=10)
    for who in (cohost, member, stranger):
        err = await who.client.error(LOG, m=m["id"], f=10)
        assert err.code == "NOT_FOUND", (who.name, err)
        # the same answer as for a meeting that does not exist: a stranger learns nothing
        assert err.errors[0]["message"].replace(m["id"], "X") == missing.errors[0]["message"].replace("0" * 32, "X")
    # Without an account (guests, anonymous callers) the answer comes before any lookup: it reveals nothing.
    assert (await guest.client.error(LOG, m=m["id"], f=10)).code == "UNAUTHENTICATED"
    assert (await anon.error(LOG, m=m["id"], f=10)).code == "UNAUTHENTICATED"
    assert (await guest.client.error(MY_LOG, f=10)).code == "UNAUTHENTICATED"
    assert (await anon.error(MY_LOG, f=10)).code == "UNAUTHENTICATED"
    assert (await stranger.client(MY_LOG, f=10))["myAuditLog"]["items"] == []


async def test_pages_newest_first_and_bad_paging_is_bad_input(world: World) -> None:
    host, m = await live_meeting(world)
    for _ in range(3):
        await host.client("mutation($m: ID!) { lockMeeting(meetingId: $m) { id } }", m=m["id"])
        await host.client("mutation($m: ID!) { unlockMeeting(meetingId: $m) { id } }", m=m["id"])
    everything = await entries(host, m)
    assert len(everything) == 6 and everything[0]["action"] == "meeting.unlocked"
    assert [int(e["id"]) for e in everything] == sorted((int(e["id"]) for e in everything), reverse=True)
    seen: list[str] = []
    cursor = None
    for _ in range(10):  # bounded: 6 rows in pages of 4 need 2
        page = (await host.client(LOG, m=m["id"], f=4, a=cursor))["auditLog"]
        seen += [e["id"] for e in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in everything]
    for bad in ("nope", "", "YXVkaXR8LTE=", "Y2hhdHwx", "YXVkaXR8" + "OTk5" * 10, "%%%", "²"):
        if bad == "":
            continue  # empty means "from the start"
        err = await host.client.error(LOG, m=m["id"], f=4, a=bad)
        assert err.code == "BAD_INPUT" and err.field == "after", bad
    for mid in ("a\x00b", "x" * 100_000, "é" * 10, "", "../../etc", "' OR 1=1 --"):
        err = await host.client.error(LOG, m=mid, f=4)
        assert err.code == "BAD_INPUT" and err.field == "meetingId", mid[:10]
    for first in (0, -1, 101, 2**31 - 1):
        assert (await host.client.error(LOG, m=m["id"], f=first)).code == "BAD_INPUT"


async def orphan_failures(server: RunningServer) -> int:
    async with server.app.state.services.db.read() as session:
        n = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "account.sign_in_failed", AuditEntry.user_id.is_(None))
        )
    return int(n or 0)


async def test_sign_ins_are_logged_for_the_account_and_unknown_emails_leave_no_trace(
    server: RunningServer, world: World, anon: Client
) -> None:
    email = "audit-signin@example.test"
    orphans = await orphan_failures(server)
    await anon(
        "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
        i={"email": email, "password": "correct horse", "displayName": "Sig"},
    )
    wrong = await anon.error(LOG_IN, i={"email": email, "password": "wrong horse!"})
    unknown = await anon.error(LOG_IN, i={"email": "nobody-here@example.test", "password": "wrong horse!"})
    assert (wrong.code, wrong.errors[0]["message"]) == (unknown.code, unknown.errors[0]["message"])
    # The unknown email costs the same write as a wrong password (no timing oracle), in a row owned by nobody.
    assert await orphan_failures(server) == orphans + 1
    async with server.app.state.services.db.read() as session:
        rows = (await session.execute(select(AuditEntry))).scalars().all()
    assert not any("nobody-here" in f"{r.details} {r.actor_name} {r.target_id}" for r in rows)
    token = (await anon(LOG_IN, i={"email": email, "password": "correct horse"}))["logIn"]["accessToken"]
    me = anon.with_token(token)
    items = (await me(MY_LOG, f=10))["myAuditLog"]["items"]
    assert [e["action"] for e in items] == ["account.signed_in", "account.sign_in_failed"]
    assert items[1]["actor"]["kind"] == "ANONYMOUS" and items[1]["actor"]["clientAddress"] == "127.0.0.1"
    assert items[0]["actor"]["kind"] == "USER" and items[0]["meetingId"] is None
    # The unknown email's failure is in nobody's log, and names no email anywhere.
    other = await world.user("Other")
    assert (await other.client(MY_LOG, f=10))["myAuditLog"]["items"] == []
    assert "nobody-here" not in str(items)


async def test_polls_and_breakout_rooms_write_one_row_per_action(world: World) -> None:
    host, m = await live_meeting(world)
    alice, _ = await world.join(await world.user("Alice"), m)
    log = Log(host, m)
    await log.start()
    mid = m["id"]
    poll = (
        await host.client(
            "mutation($i: CreatePollInput!) { createPoll(input: $i) { id options { id } } }",
            i={"meetingId": mid, "question": "Lunch?", "options": ["Yes", "No"]},
        )
    )["createPoll"]
    assert (await log.one("poll.created"))["targetId"] == poll["id"]
    await host.client("mutation($p: ID!) { launchPoll(pollId: $p) { id } }", p=poll["id"])
    await log.one("poll.launched")
    await alice.client(
        "mutation($p: ID!, $o: [ID!]!) { votePoll(pollId: $p, optionIds: $o) { id } }",
        p=poll["id"],
        o=[poll["options"][0]["id"]],
    )
    assert await log.added() == []  # voting is the participant's own business
    await host.client("mutation($p: ID!) { endPoll(pollId: $p) { id } }", p=poll["id"])
    await log.one("poll.ended")
    await host.client("mutation($p: ID!) { sharePollResults(pollId: $p) { id } }", p=poll["id"])
    await log.one("poll.results_shared")

    session = "{ rooms { id } }"
    rooms = (
        await host.client(
            f"mutation($i: CreateBreakoutRoomsInput!) {{ createBreakoutRooms(input: $i) {session} }}",
            i={"meetingId": mid, "count": 2},
        )
    )["createBreakoutRooms"]["rooms"]
    await log.one("breakouts.updated")
    await host.client(
        f"mutation($i: AssignBreakoutRoomsInput!) {{ assignBreakoutRooms(input: $i) {session} }}",
        i={"meetingId": mid, "assignments": [{"participantId": alice.participant_id, "roomId": rooms[0]["id"]}]},
    )
    await log.one("breakouts.updated")
    await host.client(
        f"mutation($i: OpenBreakoutRoomsInput!) {{ openBreakoutRooms(input: $i) {session} }}", i={"meetingId": mid}
    )
    await log.one("breakouts.opened")  # moving everyone into their rooms is part of opening, not rows of its own
    await host.client(
        "mutation($i: BroadcastToBreakoutRoomsInput!) { broadcastToBreakoutRooms(input: $i) { type } }",
        i={"meetingId": mid, "message": "5 minutes left"},
    )
    await log.one("breakouts.broadcast")
    await host.client(f"mutation($m: ID!) {{ closeBreakoutRooms(meetingId: $m, graceSeconds: 0) {session} }}", m=mid)
    await log.one("breakouts.closed")  # no grace: closed at once (the rooms empty in the same transaction)
