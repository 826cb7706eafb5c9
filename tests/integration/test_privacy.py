"""Personal data on both databases: the export archive (what is in it, and what of others' is not), account
deletion (what goes, what stays anonymised, every token dead) and recording retention (explicit ``now``)."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import func, select, update

from api.audit import service as audit
from api.errors import PayloadTooLargeError
from api.privacy import retention, service
from dbschema.audit import AuditEntry
from dbschema.models import Meeting, Participant, User, utcnow
from dbschema.recordings import Recording, TranscriptSegment
from tests.conftest import RunningServer
from tests.integration.test_events import EVENTS, PARTICIPANTS, live_meeting, seq
from tests.support.gql import Client, eventually
from tests.support.world import Person, World

pytestmark = pytest.mark.timeout(90)

EXPORT = "mutation { requestDataExport { url expiresAt } }"
DELETE = "mutation($p: String!) { deleteAccount(password: $p) }"
RETAIN = "mutation($d: Int) { setRecordingRetention(days: $d) { recordingRetentionDays } }"
SEND = "mutation($i: SendChatMessageInput!) { sendChatMessage(input: $i) { id } }"
CHAT = "query($m: ID!) { chatMessages(meetingId: $m, first: 100) { items { id text senderName senderId } } }"
START = "mutation($m: ID!) { startRecording(meetingId: $m) { id } }"
STOP = "mutation($m: ID!) { stopRecording(meetingId: $m) { id } }"
PASSWORD = "correct horse"  # tests.support.world signs everyone up with it


@contextmanager
def settings(server: RunningServer, **changes: Any) -> Iterator[None]:
    svc = server.app.state.services
    before = svc.settings
    svc.settings = dataclasses.replace(before, **changes)
    try:
        yield
    finally:
        svc.settings = before


async def say(who: Person, m: dict[str, Any], text: str, to: str | None = None) -> str:
    msg_id: str = (await who.client(SEND, i={"meetingId": m["id"], "text": text, "toParticipantId": to}))[
        "sendChatMessage"
    ]["id"]
    return msg_id


async def recording(server: RunningServer, host: Person, m: dict[str, Any], body: bytes = b"\0" * 32) -> str:
    """A stopped recording with a media file and one transcript line."""
    rid: str = (await host.client(START, m=m["id"]))["startRecording"]["id"]
    await host.client(STOP, m=m["id"])
    folder = server.settings.data_dir / "recordings" / rid
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "recording.mp4").write_bytes(body)
    async with server.app.state.services.db.write() as tx:
        tx.session.add(
            TranscriptSegment(
                recording_id=rid,
                meeting_id=m["id"],
                start_s=0.0,
                end_s=1.5,
                speaker_name="Host",
                text="hello all",
                language="en",
            )
        )
    return rid


async def download(http: httpx.AsyncClient, url: str) -> httpx.Response:
    return await http.get(url)


def archive(res: httpx.Response) -> tuple[dict[str, Any], zipfile.ZipFile]:
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(res.content))
    return json.loads(z.read("data.json")), z


async def test_export_has_mine_and_not_others_private_things(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    host, m = await live_meeting(world)
    alice, _ = await world.join(await world.user("Alice"), m)
    bob, _ = await world.join(await world.user("Bob"), m)
    await say(host, m, "welcome, everyone")
    secret = await say(alice, m, "psst bob, a secret", to=bob.participant_id)
    to_host = await say(alice, m, "psst host", to=host.participant_id)
    rid = await recording(server, host, m, body=b"MP4" * 10)

    other = await world.user("Other")
    om = await world.meeting(other, title="Other's meeting")
    await world.join(other, om)
    await world.join(host, om)
    mine_elsewhere = await say(host, om, "hi from the host, elsewhere")
    theirs_elsewhere = await say(other, om, "other's own message")

    link = (await host.client(EXPORT))["requestDataExport"]
    assert link["url"].startswith(server.url + "/privacy/export/")
    data, z = archive(await download(http, link["url"]))

    assert data["account"]["id"] == host.user_id and data["account"]["display_name"] == "Host"
    assert [x["meeting"]["id"] for x in data["meetings"]] == [m["id"]]  # not Other's meeting
    [mine] = data["meetings"]
    assert "passcode_hash" not in mine["meeting"]
    assert {p["display_name"] for p in mine["participants"]} == {"Host", "Alice", "Bob"}
    chat_ids = {c["id"] for c in mine["chat"]}
    assert to_host in chat_ids and secret not in chat_ids  # others' private conversation stays theirs
    assert "psst bob" not in json.dumps(data)
    sent = {c["id"] for c in data["my_messages"]}
    assert mine_elsewhere in sent and theirs_elsewhere not in sent
    assert "other's own message" not in json.dumps(data)
    [rec] = mine["recordings"]
    assert rec["id"] == rid and rec["files"] == [f"recordings/{rid}/recording.mp4"]
    assert rec["breakout_room"] is None  # the main room's (a breakout room's names its room: id and name)
    assert rec["transcript"] == [
        {"start_s": 0.0, "end_s": 1.5, "speaker": "Host", "text": "hello all", "language": "en"}
    ]
    assert z.read(f"recordings/{rid}/recording.mp4") == b"MP4" * 10
    assert any(s["action"] == "account.signed_in" for s in data["sign_ins"]) is False  # signed up, never logged in
    # The temporary zip is gone once sent (just after the client has its last byte).
    await eventually(lambda: not list((server.settings.data_dir / "exports").iterdir()))


async def test_export_links_are_signed_short_lived_and_bounded(
    server: RunningServer, world: World, http: httpx.AsyncClient, anon: Client
) -> None:
    host, m = await live_meeting(world)
    await recording(server, host, m, body=b"x" * 5000)
    url = (await host.client(EXPORT))["requestDataExport"]["url"]
    parts = urlsplit(url)
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}

    def variant(path: str | None = None, **changes: str) -> str:
        built: str = parts._replace(path=path or parts.path, query=urlencode({**q, **changes})).geturl()
        return built

    stranger = await world.user("Stranger")
    for bad in (
        variant(sig="A" * 43),
        variant(sig=""),
        variant(sig="x" * 5000),
        variant(sig="é" * 43),  # not ASCII: compared as bytes, refused like any other
        variant(exp=str(int(q["exp"]) + 60)),
        variant(exp="²"),
        variant(exp="9" * 5000),
        variant(exp="-1"),
        variant(path=f"/privacy/export/{stranger.user_id}"),  # someone else's id under my signature
    ):
        res = await http.get(bad)
        assert res.status_code == 403 and res.json()["code"] == "FORBIDDEN", (bad, res.text)
    svc = server.app.state.services
    assert host.user_id is not None
    old = await service.request_export(svc, _principal(host), now=utcnow().timestamp() - 3600)
    res = await http.get(old.url)
    assert res.status_code == 403 and "expired" in res.json()["error"]

    with settings(server, export_max_bytes=2000):
        res = await http.get(url)
    assert res.status_code == 413 and res.json()["code"] == "PAYLOAD_TOO_LARGE", res.text
    assert not list((server.settings.data_dir / "exports").iterdir())
    with pytest.raises(PayloadTooLargeError):
        await service.build_export(
            dataclasses.replace(svc, settings=dataclasses.replace(svc.settings, export_max_bytes=10)),
            host.user_id,
            server.settings.data_dir / "never.zip",
        )
    assert not (server.settings.data_dir / "never.zip").exists()

    assert (await anon.error(EXPORT)).code == "UNAUTHENTICATED"
    guest, _ = await world.join(None, m, name="G")
    assert (await guest.client.error(EXPORT)).code == "UNAUTHENTICATED"


def _principal(p: Person) -> Any:
    from api.security import UserPrincipal

    assert p.user_id is not None
    return UserPrincipal(p.user_id)


async def test_deleting_an_account(server: RunningServer, world: World, anon: Client, http: httpx.AsyncClient) -> None:
    svc = server.app.state.services
    gone = await world.user("Leaving")
    # Their own meeting, with a recording (files) and chat.
    gm = await world.meeting(gone, title="Leaving's meeting")
    await world.join(gone, gm)
    rid = await recording(server, gone, gm)
    await say(gone, gm, "in my own meeting")
    # A meeting someone else owns, where they chat and act as co-host.
    owner, om = await live_meeting(world)
    await world.join(gone, om)
    stays, _ = await world.join(await world.user("Stays"), om)
    kept = await say(gone, om, "my words stay, my name goes")
    await owner.client("mutation($p: ID!) { makeCohost(participantId: $p) { id } }", p=gone.participant_id)
    await gone.client("mutation($p: ID!) { stopVideo(participantId: $p) { id } }", p=stays.participant_id)
    login = (
        await anon(
            "mutation($i: LogInInput!) { logIn(input: $i) { accessToken refreshToken user { email } } }",
            i={"email": await _email(svc, gone), "password": PASSWORD},
        )
    )["logIn"]

    assert (await gone.client.error(DELETE, p="wrong password")).code == "UNAUTHENTICATED"
    assert (await gone.client.error(DELETE, p="")).code == "BAD_INPUT"
    assert (await gone.client.error(DELETE, p="x" * 10_000)).code == "BAD_INPUT"
    assert (await anon.error(DELETE, p=PASSWORD)).code == "UNAUTHENTICATED"
    visitor, _ = await world.join(None, om, name="Visitor")
    assert (await visitor.client.error(DELETE, p=PASSWORD)).code == "UNAUTHENTICATED"  # guests have no account
    export_url = (await gone.client(EXPORT))["requestDataExport"]["url"]
    async with owner.client.subscribe(EVENTS, m=om["id"], after=await seq(owner, om)) as sub:
        assert (await gone.client(DELETE, p=PASSWORD))["deleteAccount"] == gone.user_id
        # Those in the meeting hear the new name, like a rename; a fresh fetch agrees.
        item = await sub.next()
        assert item is not None
        e = item["meetingEvents"]
        assert e["type"] == "PARTICIPANT_UPDATED" and e["participant"]["id"] == gone.participant_id
        assert e["participant"]["displayName"] == "deleted user"
    fresh = (await owner.client(PARTICIPANTS, m=om["id"]))["meeting"]["participants"]
    assert [p["displayName"] for p in fresh if p["id"] == gone.participant_id] == ["deleted user"]

    # Every token is dead: access tokens (both), refresh tokens (both).
    for token in (gone.client.token, login["accessToken"]):
        dead = anon.with_token(token)
        assert (await dead("{ me { id } }"))["me"] is None
        assert (await dead.error('mutation { createMeeting(input: {title: "x"}) { id } }')).code == "UNAUTHENTICATED"
        assert (await dead.error(EXPORT)).code == "UNAUTHENTICATED"
        assert (await dead.error(DELETE, p=PASSWORD)).code == "UNAUTHENTICATED"
    for refresh in (gone.refresh_token, login["refreshToken"]):
        err = await anon.error("mutation($r: String!) { refreshTokens(refreshToken: $r) { accessToken } }", r=refresh)
        assert err.code == "UNAUTHENTICATED"

    res = await http.get(export_url)  # a link asked for before the deletion finds nothing now
    assert res.status_code == 404 and res.json()["code"] == "NOT_FOUND"

    # Their messages in others' meetings stay, from "deleted user"; the rest of that meeting is untouched.
    items = {c["id"]: c for c in (await owner.client(CHAT, m=om["id"]))["chatMessages"]["items"]}
    assert items[kept]["text"] == "my words stay, my name goes" and items[kept]["senderName"] == "deleted user"
    # The owner's audit log keeps the co-host's action but no longer says who.
    [row] = [
        e
        for e in (
            await owner.client(
                "query($m: ID!) { auditLog(meetingId: $m) { items { action actor { userId name } } } }", m=om["id"]
            )
        )["auditLog"]["items"]
        if e["action"] == "participant.video_stopped"
    ]
    assert row["actor"] == {"userId": None, "name": "deleted user"}

    # Their meeting, its recording (rows and files) and their sign-in rows are gone.
    assert not (server.settings.data_dir / "recordings" / rid).exists()
    async with svc.db.read() as session:
        assert await session.get(User, gone.user_id) is None
        assert await session.get(Meeting, gm["id"]) is None
        assert await session.get(Recording, rid) is None
        left = await session.scalar(
            select(func.count()).select_from(TranscriptSegment).where(TranscriptSegment.recording_id == rid)
        )
        assert left == 0
        rows = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                (AuditEntry.user_id == gone.user_id)
                | (AuditEntry.actor_user_id == gone.user_id)
                | (AuditEntry.meeting_id == gm["id"])
            )
        )
        assert rows == 0
        linked = await session.scalar(
            select(func.count()).select_from(Participant).where(Participant.user_id == gone.user_id)
        )
        assert linked == 0
    # The email is free again.
    await anon(
        "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
        i={"email": login["user"]["email"], "password": PASSWORD, "displayName": "Back"},
    )


async def _email(svc: Any, p: Person) -> str:
    async with svc.db.read() as session:
        u = await session.get(User, p.user_id)
        assert u is not None
        email: str = u.email
        return email


async def test_recordings_past_retention_are_swept(server: RunningServer, world: World, anon: Client) -> None:
    svc = server.app.state.services
    keeper = await world.user("Keeper")  # sets 30 days
    forever = await world.user("Forever")  # sets nothing: the server default applies
    assert (await keeper.client(RETAIN, d=30))["setRecordingRetention"]["recordingRetentionDays"] == 30
    for bad in (0, -1, 36501, 2**31 - 1):
        assert (await keeper.client.error(RETAIN, d=bad)).code == "BAD_INPUT"
    assert (await anon.error(RETAIN, d=5)).code == "UNAUTHENTICATED"
    assert (await keeper.client("{ privacySettings { recordingRetentionDays } }"))["privacySettings"] == {
        "recordingRetentionDays": 30
    }

    km = await world.meeting(keeper)
    await world.join(keeper, km)
    k_old, k_new = await recording(server, keeper, km), await recording(server, keeper, km)
    fm = await world.meeting(forever)
    await world.join(forever, fm)
    f_old = await recording(server, forever, fm)
    now = utcnow() + timedelta(days=1000)  # far ahead: every recording here is over 30 days old by then
    async with svc.db.write() as tx:
        await tx.session.execute(
            update(Recording).where(Recording.id == k_new).values(started_at=now - timedelta(days=29))
        )
    with settings(server, recording_retention_days=None):
        await retention.sweep(svc, now)
    assert not (server.settings.data_dir / "recordings" / k_old).exists()
    assert (server.settings.data_dir / "recordings" / k_new).exists()
    assert (server.settings.data_dir / "recordings" / f_old).exists()
    async with svc.db.read() as session:
        assert await session.get(Recording, k_old) is None
        assert await session.get(Recording, k_new) is not None
        assert await session.get(Recording, f_old) is not None
        assert (
            await session.scalar(
                select(func.count()).select_from(TranscriptSegment).where(TranscriptSegment.recording_id == k_old)
            )
            == 0
        )
    log = (
        await keeper.client(
            "query($m: ID!) { auditLog(meetingId: $m) { items { action targetId details actor { kind } } } }",
            m=km["id"],
        )
    )["auditLog"]["items"]
    assert log[0] == {
        "action": "recording.deleted",
        "targetId": k_old,
        "details": {"reason": "retention"},
        "actor": {"kind": "SYSTEM"},
    }

    # A server default applies to owners without their own setting; the owner's own setting wins over it.
    with settings(server, recording_retention_days=1001):
        await retention.sweep(svc, now)
    assert (server.settings.data_dir / "recordings" / f_old).exists()  # 1000 days old by `now`: kept
    with settings(server, recording_retention_days=10):
        await retention.sweep(svc, now)
    assert not (server.settings.data_dir / "recordings" / f_old).exists()
    assert (server.settings.data_dir / "recordings" / k_new).exists()  # its owner's 30 days win over the 10
    # Null goes back to the server default.
    assert (await keeper.client(RETAIN, d=None))["setRecordingRetention"]["recordingRetentionDays"] is None


async def test_audit_rows_past_retention_are_pruned(server: RunningServer, world: World) -> None:
    svc = server.app.state.services
    host, m = await live_meeting(world)
    await host.client("mutation($m: ID!) { lockMeeting(meetingId: $m) { id } }", m=m["id"])
    await host.client("mutation($m: ID!) { unlockMeeting(meetingId: $m) { id } }", m=m["id"])
    async with svc.db.write() as tx:
        await tx.session.execute(
            update(AuditEntry)
            .where(AuditEntry.meeting_id == m["id"], AuditEntry.action == "meeting.locked")
            .values(at=utcnow() - timedelta(days=366))
        )
    await audit.prune(svc)
    log = await host.client("query($m: ID!) { auditLog(meetingId: $m) { items { action } } }", m=m["id"])
    assert [e["action"] for e in log["auditLog"]["items"]] == ["meeting.unlocked"]
    with settings(server, audit_retention_days=1):
        await audit.prune(svc, utcnow() + timedelta(days=2))
    log = await host.client("query($m: ID!) { auditLog(meetingId: $m) { items { action } } }", m=m["id"])
    assert log["auditLog"]["items"] == []
