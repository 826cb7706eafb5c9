"""Recording through the edge: the host starts recording in the real API, the real edge (told by the control
feed) writes each participant's tracks as encoded packets, and the workers' reader, composer and transcriber use
the files: VP8 decodes, a composed MP4 covers the recorded time (±0.5 s) with both participants' tiles visible
and an audio stream, and each participant's speech (espeak-ng) comes back under their name (WER <= 15%)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from websockets.asyncio.client import connect

from capture.tracks import iter_packets, read_recording
from edge.codecs import prefer_codec
from edge.rooms import Rooms
from edge.synthetic import EncodedTrack, encode_opus_pcm, encode_vp8_clip
from protocol.signalling import Join, Joined, Offer, encode, parse_edge_message
from tests.conftest import EDGE_SECRET, RunningServer
from tests.support.edge import Client, RunningEdge, running_edge
from tests.support.gql import eventually
from tests.support.speech import wer
from tests.support.world import World, live_meeting
from workers.captions import from_json
from workers.compose import ComposeOptions, compose
from workers.synthetic import speech
from workers.transcribe import load_model, transcribe

pytestmark = pytest.mark.timeout(90)

START = "mutation($m: ID!) { startRecording(meetingId: $m) { id } }"
STOP = "mutation($m: ID!) { stopRecording(meetingId: $m) { id } }"
TOKEN = "mutation($m: ID!) { refreshJoinToken(meetingId: $m) { token } }"


@contextlib.asynccontextmanager
async def recording_edge(api: RunningServer, recordings: Path) -> AsyncIterator[tuple[RunningEdge, Rooms]]:
    async with running_edge(api, control_secret=EDGE_SECRET, recordings_dir=recordings) as edge:
        assert edge.rooms is not None
        yield edge, edge.rooms


ALICE_SAYS = "we will ship the new release on thursday afternoon"
HOST_SAYS = "the quarterly numbers look better than we expected"


class ScriptedSpeech(EncodedTrack):
    """A microphone that is quiet (real Opus silence) until :meth:`say` plays a sentence once."""

    def __init__(self) -> None:
        super().__init__(encode_opus_pcm(np.zeros(960, np.float32)))
        self._script: list[tuple[bytes, bool]] = []

    def say(self, text: str) -> None:
        self._script = list(encode_opus_pcm(speech(text)).frames)

    async def recv(self) -> Any:
        packet = await super().recv()
        if self._script:
            data, _ = self._script.pop(0)
            spoken = av.Packet(data)
            spoken.pts, spoken.time_base = packet.pts, packet.time_base
            return spoken
        return packet


class AvClient(Client):
    """Publishes a VP8 test pattern (a moving ramp) and a microphone that speaks when told."""

    mic: ScriptedSpeech

    async def start(self, token: str) -> None:
        await self.ws.send(encode(Join(token=token)))
        assert isinstance(parse_edge_message(await asyncio.wait_for(self.ws.recv(), 5)), Joined)
        self.peer.publish(encode_vp8_clip(frames=30, fps=15, gop=15))
        self.mic = ScriptedSpeech()
        transceiver = self.peer.pc.addTransceiver(self.mic, direction="sendonly")
        prefer_codec(transceiver, "audio/opus")
        await self.peer.pc.setLocalDescription(await self.peer.pc.createOffer())
        await self.ws.send(encode(Offer(sdp=self.peer.pc.localDescription.sdp)))
        self._reader = asyncio.create_task(self._read())


async def test_the_edge_records_encoded_tracks_the_workers_can_compose(
    server: RunningServer, world: World, tmp_path: Path
) -> None:
    host, m = await live_meeting(world)
    alice, joined = await world.join(await world.user("Alice"), m)
    host_token = (await host.client(TOKEN, m=m["id"]))["refreshJoinToken"]["token"]
    tokens = [str(host_token), str(joined["joinToken"]["token"])]

    async with recording_edge(server, tmp_path) as (edge, rooms):
        clients = [AvClient(await connect(edge.url)) for _ in tokens]
        try:
            for client, token in zip(clients, tokens, strict=True):
                await client.start(token)
            await eventually(lambda: all(len(c.peer.frames_by_track) >= 2 for c in clients), timeout=15)

            rec = (await host.client(START, m=m["id"]))["startRecording"]
            await eventually(lambda: len(rooms.recording.get(m["id"], {})) == 4, timeout=5)
            started = time.monotonic()
            # Each speaks once, in turn, while the recording runs (espeak-ng sentences of about 3 s).
            clients[1].mic.say(ALICE_SAYS)
            await asyncio.sleep(3.8)
            clients[0].mic.say(HOST_SAYS)
            await asyncio.sleep(4.2)
            await host.client(STOP, m=m["id"])
            recorded = time.monotonic() - started
            await eventually(lambda: m["id"] not in rooms.recording, timeout=5)
            # The edge stops when the stop reaches it over the control feed, a moment after the API answered
            # (longer on a busy host): files may run up to then, never beyond.
            until_edge_stopped = time.monotonic() - started
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

    directory = tmp_path / rec["id"]
    tracks = read_recording(directory)
    assert sorted((t.meta.kind, t.meta.source) for t in tracks) == [
        ("audio", "mic"),
        ("audio", "mic"),
        ("video", "camera"),
        ("video", "camera"),
    ]
    assert {t.meta.participant_id for t in tracks} == {host.participant_id, alice.participant_id}
    assert {t.meta.display_name for t in tracks} >= {"Alice"}
    assert all(t.meta.closed for t in tracks)
    for t in tracks:
        # Each track spans (most of) the recorded time: nothing was decoded at the edge, but it all decodes here.
        span = t.end - t.start
        assert recorded - 1.0 <= span <= until_edge_stopped + 0.5, (t.meta.kind, span, recorded, until_edge_stopped)
        packets = list(iter_packets(t.path))
        if t.meta.kind == "audio":
            assert len(packets) >= 40 * (recorded - 1.0)  # 50 Opus packets a second
            continue
        decoder = av.CodecContext.create("vp8", "r")
        frames = [f for p in packets for f in decoder.decode(p)]
        assert len(frames) >= 10 * (recorded - 1.0), len(frames)  # 15 fps, first key frame may take a moment
        assert (frames[0].width, frames[0].height) == (320, 240)

    result = compose(directory, tmp_path / "out", "gallery", ComposeOptions(width=640, height=360, fps=15, threads=1))
    assert recorded - 0.5 <= result.duration <= until_edge_stopped + 0.5, (
        result.duration,
        recorded,
        until_edge_stopped,
    )
    with av.open(result.mp4) as mp4:
        assert {s.type for s in mp4.streams} == {"video", "audio"}
        frames = [f.to_ndarray(format="gray") for f in mp4.decode(video=0)]
    # Both tiles are visible: two side-by-side regions each show the moving ramp (a black, empty tile has no
    # detail), and each changes over time. Frames a few apart are compared: the participants' clip loops every
    # 2 s, so frames a whole number of loops apart are identical.
    last = frames[-1].astype(np.int16)
    height, width = last.shape
    for region in (
        (slice(height // 4, 3 * height // 4), slice(20, width // 2 - 20)),
        (slice(height // 4, 3 * height // 4), slice(width // 2 + 20, width - 20)),
    ):
        assert last[region].std() > 20, last[region].std()
        moved = [np.abs(last[region] - frames[-k].astype(np.int16)[region]).mean() for k in (4, 6, 8)]
        assert max(moved) > 2, moved

    # What each said, transcribed per speaker from the edge's captures, with the right names.
    done = transcribe(directory, tmp_path / "out", load_model())
    by_speaker: dict[str, str] = {}
    for segment in from_json(Path(done.transcript).read_text()):  # noqa: ASYNC240 - the test's own files
        by_speaker[segment.speaker_name] = f"{by_speaker.get(segment.speaker_name, '')} {segment.text}"
    host_name = next(t.meta.display_name for t in tracks if t.meta.participant_id == host.participant_id)
    assert set(by_speaker) == {"Alice", host_name}, by_speaker
    # The transcript's word error rate against what was said, both speakers together; each line under its name.
    spoken, heard = f"{ALICE_SAYS} {HOST_SAYS}", f"{by_speaker['Alice']} {by_speaker[host_name]}"
    assert wer(spoken, heard) <= 0.15, by_speaker
    assert wer(ALICE_SAYS, by_speaker["Alice"]) <= 0.3 and wer(HOST_SAYS, by_speaker[host_name]) <= 0.3, by_speaker
    assert Path(done.vtt).read_text().startswith("WEBVTT")  # noqa: ASYNC240


BREAKOUT_CREATE = "mutation($i: CreateBreakoutRoomsInput!) { createBreakoutRooms(input: $i) { rooms { id } } }"
BREAKOUT_ASSIGN = "mutation($i: AssignBreakoutRoomsInput!) { assignBreakoutRooms(input: $i) { status } }"
BREAKOUT_OPEN = "mutation($i: OpenBreakoutRoomsInput!) { openBreakoutRooms(input: $i) { status } }"
BREAKOUT_CLOSE = "mutation($m: ID!) { closeBreakoutRooms(meetingId: $m, graceSeconds: 0) { status } }"
LIST = "query($m: ID!) { recordings(meetingId: $m) { id status breakoutRoom { id name } } }"
BOB_SAYS = "please send the budget report to the finance team tomorrow"


async def test_each_breakout_room_is_recorded_on_its_own_and_the_main_recording_holds_the_main_room_only(
    server: RunningServer, world: World, tmp_path: Path
) -> None:
    # The host records; breakout rooms open with Bob in "Room 1" and Alice left in the main room with the host;
    # both speak at once, each in their room; the rooms close (Bob comes back), the recording stops. Two
    # recordings: the main room's holds the host and Alice throughout and Bob only while he was in the main room,
    # Room 1's holds Bob only; each transcript has its room's words and none of the other's.
    host, m = await live_meeting(world)
    alice, _ = await world.join(await world.user("Alice"), m)
    bob, _ = await world.join(await world.user("Bob"), m)
    created = await host.client(BREAKOUT_CREATE, i={"meetingId": m["id"], "names": ["Room 1"]})
    room_id = created["createBreakoutRooms"]["rooms"][0]["id"]
    plan = [{"participantId": bob.participant_id, "roomId": room_id}]
    await host.client(BREAKOUT_ASSIGN, i={"meetingId": m["id"], "assignments": plan})
    people = (host, alice, bob)

    async def token(who: Any) -> str:
        return str((await who.client(TOKEN, m=m["id"]))["refreshJoinToken"]["token"])

    async with recording_edge(server, tmp_path) as (edge, rooms):
        clients: list[AvClient] = []

        def taps() -> dict[tuple[str, str], tuple[str, Any]]:
            return rooms.recording.get(m["id"], {})

        def tapped(pid: str, recording_id: str) -> bool:
            # Both of the participant's tracks written into that recording (a packet each: the file is usable).
            mine = [(rec, tap) for (p, _mid), (rec, tap) in taps().items() if p == pid]
            return len(mine) == 2 and all(rec == recording_id and tap.frames > 0 for rec, tap in mine)

        async def reconnect_bob() -> None:  # a join token names one room: moving rooms is a new connection
            fresh = await token(bob)  # before connecting: the edge waits only so long for the join
            await clients[2].close()
            clients[2] = AvClient(await connect(edge.url))
            await clients[2].start(fresh)

        try:
            for who in people:
                fresh = await token(who)
                clients.append(AvClient(await connect(edge.url)))
                await clients[-1].start(fresh)
            main = (await host.client(START, m=m["id"]))["startRecording"]
            await eventually(lambda: all(tapped(p.participant_id, main["id"]) for p in people), timeout=15)

            await host.client(BREAKOUT_OPEN, i={"meetingId": m["id"]})
            [room_rec] = [r for r in (await host.client(LIST, m=m["id"]))["recordings"] if r["breakoutRoom"]]
            left_main = time.time()
            await reconnect_bob()
            await eventually(lambda: tapped(bob.participant_id, room_rec["id"]), timeout=15)
            assert {key[1] for key in rooms.rooms} == {None, room_id}  # two media rooms on this edge
            entered_room = time.time()
            clients[2].mic.say(BOB_SAYS)  # at the same time: Bob in Room 1, Alice in the main room
            clients[1].mic.say(ALICE_SAYS)
            await asyncio.sleep(4.2)

            await host.client(BREAKOUT_CLOSE, m=m["id"])
            await eventually(lambda: not any(rec == room_rec["id"] for rec, _tap in taps().values()), timeout=5)
            left_room = time.time()
            await reconnect_bob()
            await eventually(lambda: tapped(bob.participant_id, main["id"]), timeout=15)
            await host.client(STOP, m=m["id"])
            await eventually(lambda: m["id"] not in rooms.recording, timeout=5)
            stopped = time.time()
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

    # Both listed under the meeting, the room's with its name.
    listed = (await alice.client(LIST, m=m["id"]))["recordings"]
    assert [(r["id"], r["breakoutRoom"]) for r in listed] == [
        (main["id"], None),
        (room_rec["id"], {"id": room_id, "name": "Room 1"}),
    ]
    assert {r["status"] for r in listed} <= {"STOPPED", "PROCESSING", "READY"}

    main_tracks = read_recording(tmp_path / main["id"])
    room_tracks = read_recording(tmp_path / room_rec["id"])
    assert all(t.meta.closed for t in [*main_tracks, *room_tracks])
    # Room 1's recording: Bob's microphone and camera, nobody else's, from his arrival to the rooms' close.
    assert sorted((t.meta.participant_id, t.meta.display_name, t.meta.kind) for t in room_tracks) == [
        (bob.participant_id, "Bob", "audio"),
        (bob.participant_id, "Bob", "video"),
    ]
    for t in room_tracks:
        assert left_main - 0.5 <= t.start <= entered_room and entered_room + 4.0 <= t.end <= left_room + 0.5
    # The main room's: the host and Alice throughout; Bob before the rooms opened and after they closed, never in
    # between.
    by_person: dict[str, list[Any]] = {}
    for t in main_tracks:
        by_person.setdefault(t.meta.participant_id, []).append(t)
    assert set(by_person) == {host.participant_id, alice.participant_id, bob.participant_id}
    for p in (host, alice):
        assert sorted(t.meta.kind for t in by_person[p.participant_id]) == ["audio", "video"]
        for t in by_person[p.participant_id]:
            assert t.start <= left_main and t.end >= left_room
    bob_main = by_person[bob.participant_id]
    assert sorted(t.meta.kind for t in bob_main) == ["audio", "audio", "video", "video"]  # two visits
    for t in bob_main:
        assert t.end <= left_main + 0.5 or t.start >= left_room - 0.5, (t.start, t.end, left_main, left_room)

    # What was said: each recording's transcript holds its own room's speech, under the right name, and not a
    # word of the other room's (Bob and Alice spoke at the same moment).
    model = load_model()
    heard: dict[str, dict[str, str]] = {}
    for rec_id in (main["id"], room_rec["id"]):
        done = transcribe(tmp_path / rec_id, tmp_path / f"out-{rec_id}", model)
        lines = heard.setdefault(rec_id, {})
        for segment in from_json(Path(done.transcript).read_text()):  # noqa: ASYNC240 - the test's own files
            lines[segment.speaker_name] = f"{lines.get(segment.speaker_name, '')} {segment.text}"
    assert set(heard[room_rec["id"]]) == {"Bob"}, heard
    assert wer(BOB_SAYS, heard[room_rec["id"]]["Bob"]) <= 0.3, heard
    assert "Bob" not in heard[main["id"]] and wer(ALICE_SAYS, heard[main["id"]]["Alice"]) <= 0.3, heard
    main_words = " ".join(heard[main["id"]].values()).lower()
    assert not {"budget", "report", "finance", "team"} & set(main_words.replace(".", " ").split()), heard

    # Each composes on its own (the workers' job, unchanged): the room's file covers the room's time only.
    options = ComposeOptions(width=640, height=360, fps=15, threads=1)
    room_file = compose(tmp_path / room_rec["id"], tmp_path / f"out-{room_rec['id']}", "gallery", options)
    main_file = compose(tmp_path / main["id"], tmp_path / f"out-{main['id']}", "gallery", options)
    for result, tracks in ((room_file, room_tracks), (main_file, main_tracks)):
        spanned = max(t.end for t in tracks) - min(t.start for t in tracks)
        assert abs(result.duration - spanned) <= 0.5, (result.duration, spanned)
    assert 4.0 <= room_file.duration <= left_room - left_main + 0.5, room_file.duration
    assert left_room - left_main <= main_file.duration <= stopped - left_main + 30, main_file.duration
    for result in (room_file, main_file):
        with av.open(result.mp4) as mp4:
            assert {s.type for s in mp4.streams} == {"video", "audio"}
