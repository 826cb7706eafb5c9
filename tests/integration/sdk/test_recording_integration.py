"""The recording integration example (sdk/python/examples/recording_integration.py) run as its own process
against a live server with the embedded recording processor, a real SMTP server (aiosmtpd) the server mails its
invitations to, and real webhook deliveries: it schedules a meeting, has the server send the iTIP invitations,
and downloads the recording and its transcript once ``recording.ready`` arrives."""

from __future__ import annotations

import asyncio
import re
import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from meetmesh import AsyncClient

from testkit.server import free_port
from tests.conftest import RunningServer, make_settings
from tests.support.gql import eventually
from tests.support.smtp import Inbox, attendees, imip, smtp_server
from workers.synthetic import AudioSpec, ParticipantSpec, VideoSpec, write_recording

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

EXAMPLE = Path(__file__).resolve().parents[3] / "sdk" / "python" / "examples" / "recording_integration.py"


MAIL_FROM = "calendar@meetmesh.test"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as found:
        yield found


@pytest.fixture
async def processing_server(tmp_path: Path, smtp: tuple[Inbox, int]) -> AsyncIterator[RunningServer]:
    settings = make_settings(
        tmp_path / "api",
        recording_processor="stack.jobs:EmbeddedProcessor",
        webhook_allowed_networks=("127.0.0.1/32",),  # the example listens on loopback here
        webhook_poll_s=0.2,
        smtp_host="127.0.0.1",  # the server mails the invitations
        smtp_port=smtp[1],
        mail_from=MAIL_FROM,
    )
    srv = RunningServer(settings)
    await srv.start()
    yield srv
    await srv.stop()


async def read_line(proc: asyncio.subprocess.Process, pattern: str, timeout: float = 60) -> re.Match[str]:
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout)).decode()
        assert line, f"the example exited before printing {pattern!r}"
        if found := re.search(pattern, line):
            return found


async def test_schedule_invite_and_download_when_ready(
    processing_server: RunningServer, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, _ = smtp
    address = f"owner{secrets.token_hex(5)}@example.test"
    async with AsyncClient(processing_server.url) as owner:
        await owner.sign_up(address, "correct horse", "Owner")
        hook_port = free_port()
        out = tmp_path / "downloads"
        cmd = [
            sys.executable, str(EXAMPLE), "--url", processing_server.url, "--email", address,
            "--password", "correct horse", "--title", "Quarterly review", "--starts-at", "2030-01-02T10:00:00+01:00",
            "--timezone", "Europe/Berlin", "--invite", "Ana@example.test", "--invite", "bo@example.test",
            "--listen-port", str(hook_port),
            "--public-url", f"http://127.0.0.1:{hook_port}/hooks", "--out", str(out), "--once", "--seconds", "200",
        ]  # fmt: skip
        proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE)
        try:
            found = await read_line(proc, r"scheduled (\S+) (\d+)")
            meeting_id, number = found.group(1), found.group(2)
            invited = ["ana@example.test", "bo@example.test"]
            assert (await read_line(proc, r"invited (.*)")).group(1).split() == invited
            await read_line(proc, "listening")
            m = await owner.meeting(meeting_id)
            assert m.title == "Quarterly review" and m.status == "SCHEDULED" and m.timezone == "Europe/Berlin"
            assert (await owner.invitees(meeting_id)).emails == invited
            # Each invitee got the server's iTIP invitation (iMIP) for this meeting, and nothing else was mailed.
            await eventually(lambda: len(inbox.messages) == 2, timeout=30)
            for address in invited:
                [msg] = inbox.to(address)
                assert msg["From"] == MAIL_FROM and msg["Subject"] == "Invitation: Quarterly review"
                method, ev = imip(msg)
                assert method == "REQUEST" and str(ev["uid"]) == f"{meeting_id}@127.0.0.1"
                assert attendees(ev) == invited and str(ev["summary"]) == "Quarterly review"
                assert ev.decoded("dtstart") == datetime(2030, 1, 2, 10, tzinfo=ZoneInfo("Europe/Berlin"))
                assert number in str(ev["description"])

            # The meeting happens and is recorded (what the edge's taps would have written), then stopped.
            await owner.join(number)
            rec = await owner.start_recording(meeting_id)
            says = "the quick brown fox jumps over the lazy dog"
            ada = ParticipantSpec("p-ada", "Ada", VideoSpec((200, 40, 40), 0.0, 3.0), AudioSpec(0.0, text=says))
            write_recording(processing_server.settings.data_dir / "recordings" / rec.id, [ada])
            await owner.stop_recording(meeting_id)

            done = await read_line(proc, r"downloaded (\S+) to", timeout=180)
            assert done.group(1) == rec.id
            assert await asyncio.wait_for(proc.wait(), 30) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        folder = out / rec.id
        files = {p.name for p in folder.iterdir()}
        assert {"recording.mp4", "audio.m4a", "transcript.txt"} <= files, files
        assert (folder / "recording.mp4").read_bytes()[4:8] == b"ftyp"
        transcript = (folder / "transcript.txt").read_text().lower()
        assert "ada:" in transcript and "lazy dog" in transcript, transcript
        ready = await owner.recording(rec.id)
        assert ready.status == "READY" and {f.name: f.size for f in ready.media}["recording.mp4"] == (
            (folder / "recording.mp4").stat().st_size
        )
        # The example cleaned up its endpoint.
        endpoints = await owner.execute("query { r: webhookEndpoints { id } }")
        assert endpoints == []
