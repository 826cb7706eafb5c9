"""Cloud recording control through GraphQL on both databases: who may start/pause/resume/stop, what everyone
hears, auto-recording, listing, rename/delete, share links, and what the edges are told."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from api.recordings import processing, service, transcripts
from dbschema.models import utcnow
from dbschema.recordings import Recording, RecordingShare
from protocol.media_control import MediaState, RecordingChanged, Watch, encode
from tests.conftest import RunningServer
from tests.integration.test_edge_feed import feed, recv
from tests.integration.test_events import live_meeting, seq
from tests.support.world import Person, World

pytestmark = pytest.mark.timeout(60)

FIELDS = "id meetingId title status startedById recordedSeconds stoppedAt views"
START = f"mutation($m: ID!) {{ startRecording(meetingId: $m) {{ {FIELDS} }} }}"
PAUSE = f"mutation($m: ID!) {{ pauseRecording(meetingId: $m) {{ {FIELDS} }} }}"
RESUME = f"mutation($m: ID!) {{ resumeRecording(meetingId: $m) {{ {FIELDS} }} }}"
STOP = f"mutation($m: ID!) {{ stopRecording(meetingId: $m) {{ {FIELDS} }} }}"
LIST = f"query($m: ID!) {{ recordings(meetingId: $m) {{ {FIELDS} }} }}"
RENAME = "mutation($id: ID!, $t: String!) { renameRecording(id: $id, title: $t) { id title } }"
DELETE = "mutation($id: ID!) { deleteRecording(id: $id) }"
SHARE = """mutation($id: ID!, $h: Int!, $p: String) { shareRecording(id: $id, expiresInHours: $h, passcode: $p) {
  id url recordingId passcodeProtected expiresAt } }"""
SHARED = "query($s: ID!, $p: String) { sharedRecording(shareId: $s, passcode: $p) { id title } }"
SHARED_TRANSCRIPT = "query($s: ID!) { sharedRecording(shareId: $s) { transcript { start speakerName text } } }"
EVENTS = """subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) {
  __typename type ... on RecordingEvent { recording { id status title } } } }"""


async def three(world: World) -> tuple[Person, Person, dict[str, Any]]:
    host, m = await live_meeting(world)
    alice, _ = await world.join(await world.user("Alice"), m)
    return host, alice, m


async def test_host_controls_the_recording_and_everyone_hears_it(world: World) -> None:
    host, alice, m = await three(world)
    async with alice.client.subscribe(EVENTS, m=m["id"], after=await seq(host, m)) as sub:
        assert (await alice.client.error(START, m=m["id"])).code == "FORBIDDEN"
        started = (await host.client(START, m=m["id"]))["startRecording"]
        assert started["status"] == "RECORDING" and started["startedById"] == host.participant_id
        assert (await host.client.error(START, m=m["id"])).code == "CONFLICT"
        assert (await alice.client.error(PAUSE, m=m["id"])).code == "FORBIDDEN"

        await asyncio.sleep(0.3)
        paused = (await host.client(PAUSE, m=m["id"]))["pauseRecording"]
        assert paused["status"] == "PAUSED" and paused["recordedSeconds"] >= 0.3
        assert (await host.client.error(PAUSE, m=m["id"])).code == "CONFLICT"
        await asyncio.sleep(0.3)  # paused time is not recorded time
        assert (await host.client(LIST, m=m["id"]))["recordings"][0]["recordedSeconds"] == paused["recordedSeconds"]
        resumed = (await host.client(RESUME, m=m["id"]))["resumeRecording"]
        assert resumed["status"] == "RECORDING"
        stopped = (await host.client(STOP, m=m["id"]))["stopRecording"]
        assert stopped["status"] == "STOPPED" and stopped["stoppedAt"]
        assert paused["recordedSeconds"] <= stopped["recordedSeconds"] < paused["recordedSeconds"] + 0.3 + 1.0
        assert (await host.client.error(STOP, m=m["id"])).code == "CONFLICT"

        heard = []
        for _ in range(4):
            item = await sub.next()
            assert item is not None
            e = item["meetingEvents"]
            heard.append((e["__typename"], e["type"], e["recording"]["status"]))
    assert heard == [
        ("RecordingEvent", "RECORDING_STARTED", "RECORDING"),
        ("RecordingEvent", "RECORDING_PAUSED", "PAUSED"),
        ("RecordingEvent", "RECORDING_RESUMED", "RECORDING"),
        ("RecordingEvent", "RECORDING_STOPPED", "STOPPED"),
    ]


async def test_auto_record_starts_with_the_meeting_and_the_end_stops_it(world: World) -> None:
    host = await world.user("Host")
    m = await world.meeting(host, autoRecord=True)
    assert (await host.client(LIST, m=m["id"]))["recordings"] == []
    await world.join(host, m)
    [rec] = (await host.client(LIST, m=m["id"]))["recordings"]
    assert rec["status"] == "RECORDING" and rec["startedById"] is None
    await host.client("mutation($m: ID!) { endMeeting(id: $m) { id } }", m=m["id"])
    [rec] = (await host.client(LIST, m=m["id"]))["recordings"]
    assert rec["status"] == "STOPPED"
    assert (await host.client.error(START, m=m["id"])).code == "MEETING_ENDED"


async def test_members_list_outsiders_do_not_hosts_manage(server: RunningServer, world: World) -> None:
    host, alice, m = await three(world)
    rec = (await host.client(START, m=m["id"]))["startRecording"]
    outsider = await world.user("Otto")
    assert (await outsider.client.error(LIST, m=m["id"])).code == "FORBIDDEN"
    assert [r["id"] for r in (await alice.client(LIST, m=m["id"]))["recordings"]] == [rec["id"]]

    assert (await alice.client.error(RENAME, id=rec["id"], t="Mine")).code == "FORBIDDEN"
    assert (await host.client.error(RENAME, id=rec["id"], t="")).code == "BAD_INPUT"
    assert (await host.client(RENAME, id=rec["id"], t="Weekly sync"))["renameRecording"]["title"] == "Weekly sync"

    assert (await host.client.error(DELETE, id=rec["id"])).code == "CONFLICT"  # still recording
    await host.client(STOP, m=m["id"])
    files = server.settings.data_dir / "recordings" / rec["id"]
    files.mkdir(parents=True)
    (files / "track.webm").write_bytes(b"x" * 100)
    assert (await alice.client.error(DELETE, id=rec["id"])).code == "FORBIDDEN"
    assert files.exists()
    assert (await host.client(DELETE, id=rec["id"]))["deleteRecording"] == rec["id"]
    assert not files.exists()
    assert (await host.client(LIST, m=m["id"]))["recordings"] == []
    assert (await host.client.error(DELETE, id=rec["id"])).code == "NOT_FOUND"


async def test_share_links_expire_and_can_need_a_passcode(server: RunningServer, world: World) -> None:
    host, alice, m = await three(world)
    rec = (await host.client(START, m=m["id"]))["startRecording"]
    assert (await alice.client.error(SHARE, id=rec["id"], h=24, p=None)).code == "FORBIDDEN"
    assert (await host.client.error(SHARE, id=rec["id"], h=0, p=None)).code == "BAD_INPUT"
    open_link = (await host.client(SHARE, id=rec["id"], h=24, p=None))["shareRecording"]
    assert open_link["url"] == f"{server.url}/s/{open_link['id']}" and not open_link["passcodeProtected"]
    anon = world.anon
    assert (await anon(SHARED, s=open_link["id"], p=None))["sharedRecording"]["id"] == rec["id"]
    # The link's holder reads the transcript too (the player shows it), though not a member of the meeting.
    await transcripts.save(server.app.state.services, rec["id"], [transcripts.Line(1.0, 2.5, None, "Ada", "hello")])
    shared = (await anon(SHARED_TRANSCRIPT, s=open_link["id"]))["sharedRecording"]
    assert shared["transcript"] == [{"start": 1.0, "speakerName": "Ada", "text": "hello"}]
    assert (await anon.error(SHARED, s="no-such-link", p=None)).code == "NOT_FOUND"

    locked = (await host.client(SHARE, id=rec["id"], h=1, p="s3cret42"))["shareRecording"]
    assert locked["passcodeProtected"]
    assert (await anon.error(SHARED, s=locked["id"], p=None)).code == "BAD_PASSCODE"
    assert (await anon(SHARED, s=locked["id"], p="s3cret42"))["sharedRecording"]["id"] == rec["id"]
    for _ in range(5):
        assert (await anon.error(SHARED, s=locked["id"], p="guess")).code == "BAD_PASSCODE"
    limited = await anon.error(SHARED, s=locked["id"], p="s3cret42")
    assert limited.code == "RATE_LIMITED", limited

    # Expiry is checked on use (moved into the past in the database rather than waiting an hour).
    db = server.app.state.services.db
    async with db.write() as tx:
        await tx.session.execute(
            update(RecordingShare)
            .where(RecordingShare.id == open_link["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert (await anon.error(SHARED, s=open_link["id"], p=None)).code == "FORBIDDEN"


async def test_edges_learn_when_to_capture(server: RunningServer, world: World) -> None:
    host, _, m = await three(world)
    async with feed(server) as ws:
        await ws.send(encode(Watch(m["id"])))
        state = await recv(ws)
        assert isinstance(state, MediaState) and state.recording_id is None
        rec = (await host.client(START, m=m["id"]))["startRecording"]
        assert await recv(ws) == RecordingChanged(m["id"], rec["id"])
        await host.client(PAUSE, m=m["id"])
        assert await recv(ws) == RecordingChanged(m["id"], None)
        await host.client(RESUME, m=m["id"])
        assert await recv(ws) == RecordingChanged(m["id"], rec["id"])
        await host.client(RENAME, id=rec["id"], t="Renamed")  # not a capture change: nothing sent
        await host.client(STOP, m=m["id"])
        assert await recv(ws) == RecordingChanged(m["id"], None)


MEDIA = "query($id: ID!) { recording(id: $id) { views media { name contentType size url } } }"


async def test_playback_serves_ranges_to_signed_urls_only(server: RunningServer, world: World, http: Any) -> None:
    host, alice, m = await three(world)
    rec = (await host.client(START, m=m["id"]))["startRecording"]
    assert (await alice.client(MEDIA, id=rec["id"]))["recording"]["media"] == []  # nothing processed yet
    body = bytes(range(256)) * 40  # 10,240 bytes standing in for a composed MP4
    files = server.settings.data_dir / "recordings" / rec["id"]
    files.mkdir(parents=True)
    (files / "recording.mp4").write_bytes(body)
    (files / "notes.txt").write_bytes(b"never served")

    [mp4] = (await alice.client(MEDIA, id=rec["id"]))["recording"]["media"]
    assert (mp4["name"], mp4["contentType"], mp4["size"]) == ("recording.mp4", "video/mp4", len(body))
    whole = await http.get(mp4["url"])
    assert whole.status_code == 200 and whole.content == body
    assert whole.headers["accept-ranges"] == "bytes" and whole.headers["content-type"] == "video/mp4"

    part = await http.get(mp4["url"], headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == body[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(body)}"
    tail = await http.get(mp4["url"], headers={"Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.content == body[-16:]
    past = await http.get(mp4["url"], headers={"Range": f"bytes={len(body)}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(body)}"

    # The signature binds the recording, the file and the expiry.
    assert (await http.get(mp4["url"].replace("recording.mp4", "audio.m4a"))).status_code == 403
    assert (await http.get(mp4["url"].replace("sig=", "sig=x"))).status_code == 403
    assert (await http.get(mp4["url"].split("?")[0])).status_code == 403
    assert (await http.get(f"{server.url}/recordings/{rec['id']}/media/notes.txt")).status_code == 404
    refused = await http.get(mp4["url"].replace("sig=", "sig=x"))
    assert refused.json()["code"] == "FORBIDDEN"

    # The play from the top was a view; the seeks and refusals were not.
    assert (await alice.client(MEDIA, id=rec["id"]))["recording"]["views"] == 1


async def test_processing_progress_then_ready_or_failed(server: RunningServer, world: World) -> None:
    host, alice, m = await three(world)
    rec = (await host.client(START, m=m["id"]))["startRecording"]
    svc = server.app.state.services
    progress = "query($id: ID!) { recording(id: $id) { status progress error } }"
    assert not await service.processing(svc, rec["id"], 10)  # still recording: jobs cannot touch it
    await host.client(STOP, m=m["id"])
    after = await seq(host, m)
    async with alice.client.subscribe(EVENTS, m=m["id"], after=after) as sub:
        for percent in (0, 2, 5, 7, 50, 100):
            assert await service.processing(svc, rec["id"], percent)
        assert await service.finished(svc, rec["id"])
        assert (await alice.client(progress, id=rec["id"]))["recording"] == {
            "status": "READY",
            "progress": 100,
            "error": None,
        }
        assert not await service.processing(svc, rec["id"], 30)  # a late report from a retried job
        statuses = []
        while True:
            item = await sub.next()
            assert item is not None
            statuses.append(item["meetingEvents"]["type"])
            if statuses[-1] == "RECORDING_READY":
                break
    # 0 starts processing; 2 is under the 5-point step; 5, 7?, 50, 100: 7 is under the step from 5.
    assert statuses == ["RECORDING_PROCESSING"] * 4 + ["RECORDING_READY"]
    assert await service.finished(svc, rec["id"], error="compose failed: no tracks were captured")
    failed = (await alice.client(progress, id=rec["id"]))["recording"]
    assert failed["status"] == "FAILED" and failed["error"] == "compose failed: no tracks were captured"


class _SlowProcessor:
    """A processor plugin that takes its time and writes no media (what it makes is not the point here)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.runs: list[str] = []

    async def process(self, recording_id: str, directory: Any, progress: Any) -> list[Any]:
        self.runs.append(recording_id)
        await asyncio.sleep(self.seconds)
        return []


async def test_a_processing_claim_is_a_lease_renewed_while_working_and_taken_over_when_it_lapses(
    server: RunningServer, world: World
) -> None:
    host, _, m = await three(world)
    rec = (await host.client(START, m=m["id"]))["startRecording"]
    await host.client(STOP, m=m["id"])
    svc = server.app.state.services
    status = "query($id: ID!) { recording(id: $id) { status } }"
    # Earlier tests on this server left stopped recordings of their own; the sweeper would take the oldest first.
    async with svc.db.write() as tx:
        await tx.session.execute(
            update(Recording)
            .where(Recording.id != rec["id"], Recording.status.in_(("stopped", "processing")))
            .values(status="failed")
        )

    # An API process claims it, then dies without a word: nobody else may take it while the lease runs ...
    claimed = await processing._claim(svc, lease_s=0.6)
    assert claimed is not None and claimed.id == rec["id"]
    assert await processing._claim(svc, lease_s=0.6) is None
    assert (await host.client(status, id=rec["id"]))["recording"]["status"] == "PROCESSING"
    # ... and once it lapses, another process takes the recording over and finishes it.
    await asyncio.sleep(0.8)
    again = await processing._claim(svc, lease_s=0.6)
    assert again is not None and again.id == rec["id"]

    # While a processor works (longer than the lease), the lease is renewed: no second claim.
    slow = _SlowProcessor(2.0)
    work = asyncio.create_task(processing.process_one(svc, slow, rec["id"], lease_s=0.6))
    for _ in range(8):
        await asyncio.sleep(0.25)
        assert await processing._claim(svc, lease_s=0.6) is None
    await work
    assert slow.runs == [rec["id"]]
    assert (await host.client(status, id=rec["id"]))["recording"]["status"] == "READY"
    await asyncio.sleep(0.8)  # a finished recording's lease is gone: it is never claimed again
    assert await processing._claim(svc, lease_s=0.6) is None
