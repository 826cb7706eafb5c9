"""Untrusted text that becomes a number, through every endpoint that parses one, on both databases: signed
download URLs (``exp``), the Range header, the upload's Content-Length, chat cursors, RRULE parts and time
zones. Each hostile string gets a 4xx with a machine-readable code - never a 500, never a logged server error
(the autouse fixture in tests/conftest.py fails the test on one) - and nothing non-ASCII is stored."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.conftest import RunningServer
from tests.support.world import Person, World

pytestmark = pytest.mark.timeout(120)

HOSTILE = [
    "²",  # superscript two: str.isdigit() says yes, int() says no
    "¹²",
    "٣",  # Arabic-Indic three: isdigit() and int() both say yes
    "۱۲",  # extended Arabic-Indic (Persian)
    "३",  # Devanagari
    "১২",  # Bengali
    "１２",  # fullwidth
    "𝟙𝟚",  # mathematical double-struck
    "1e3",
    " 12",
    "12 ",
    "12\n",
    "\x00",
    "1\x002",
    "0x10",
    "1_000",
    "1.5",
    "-0",
    "-1",
    "",
    "9" * 5000,  # over int()'s 4,300-digit limit
    "0" * 5000 + "1",
    "9" * 20,  # digits int() reads, but past any 64-bit column or timestamp
]
"""Strings that must never be read as a (valid) number. ``+12`` is tested where a sign is not allowed."""
HOSTILE_SIGNATURES = ["é" * 43, "\u0661" * 43, "💥", "A" * 5000, "", "\x00", "%", "+/="]
"""Signatures that are not base64url MACs: each must answer 403 like any wrong signature."""

SIGNED_OK = {"-1"}
"""Signed RRULE parts (BYMONTHDAY, BYSETPOS, BYDAY) accept a minus: ``-1`` is the last day/position."""

MEDIA = "query($id: ID!) { recording(id: $id) { media { name url } } }"
START = "mutation($m: ID!) { startRecording(meetingId: $m) { id } }"
SEND = """mutation($i: SendChatMessageInput!) { sendChatMessage(input: $i) {
  id attachment { download { url } } } }"""
HISTORY = """query($m: ID!, $before: String) { chatMessages(meetingId: $m, first: 5, before: $before) {
  nextCursor items { id } } }"""
CREATE = "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id recurrence timezone } }"


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return parts._replace(query=urlencode({**q, **changes})).geturl()


async def live(world: World) -> tuple[Person, dict[str, Any]]:
    host = await world.user("Host")
    m = await world.meeting(host)
    await world.join(host, m)
    return host, m


def assert_coded(res: httpx.Response, status: int, code: str) -> None:
    assert res.status_code == status, (res.status_code, res.text[:200])
    assert res.json()["code"] == code, res.text[:200]
    assert "Traceback" not in res.text


async def test_signed_recording_urls_refuse_hostile_expiries(server: RunningServer, world: World) -> None:
    host, m = await live(world)
    rec = (await host.client(START, m=m["id"]))["startRecording"]
    folder = server.settings.data_dir / "recordings" / rec["id"]
    folder.mkdir(parents=True)
    (folder / "recording.mp4").write_bytes(b"x" * 100)
    [mp4] = (await host.client(MEDIA, id=rec["id"]))["recording"]["media"]
    http = host.client.http
    assert (await http.get(mp4["url"])).status_code == 200
    for exp in [*HOSTILE, "+12", "+" + parse_qs(urlsplit(mp4["url"]).query)["exp"][0]]:
        assert_coded(await http.get(with_query(mp4["url"], exp=exp)), 403, "FORBIDDEN")
    for sig in HOSTILE_SIGNATURES:  # the other half of the link: compare_digest refuses non-ASCII text
        assert_coded(await http.get(with_query(mp4["url"], sig=sig)), 403, "FORBIDDEN")


async def test_signed_chat_file_urls_refuse_hostile_expiries(server: RunningServer, world: World) -> None:
    host, m = await live(world)
    http = host.client.http
    up = await http.post(
        f"{server.url}/meetings/{m['id']}/files",
        params={"filename": "a.txt"},
        content=b"hello",
        headers={"authorization": f"Bearer {host.client.token}"},
    )
    assert up.status_code == 201, up.text
    msg = await host.client(SEND, i={"meetingId": m["id"], "text": "", "attachmentId": up.json()["id"]})
    url = msg["sendChatMessage"]["attachment"]["download"]["url"]
    assert (await http.get(url)).status_code == 200
    for exp in [*HOSTILE, "+12", "+" + parse_qs(urlsplit(url).query)["exp"][0]]:
        assert_coded(await http.get(with_query(url, exp=exp)), 403, "FORBIDDEN")
    for sig in HOSTILE_SIGNATURES:
        assert_coded(await http.get(with_query(url, sig=sig)), 403, "FORBIDDEN")


async def test_range_headers_with_hostile_numbers_are_ignored_or_unsatisfiable(
    server: RunningServer, world: World
) -> None:
    """RFC 9110 section 14.2 lets a server ignore a Range it cannot use (200 with the whole file); a position
    past any file is 416. Neither may be a 500, nor may non-ASCII digits select bytes."""
    host, m = await live(world)
    rec = (await host.client(START, m=m["id"]))["startRecording"]
    folder = server.settings.data_dir / "recordings" / rec["id"]
    folder.mkdir(parents=True)
    body = bytes(range(256)) * 4
    (folder / "recording.mp4").write_bytes(body)
    [mp4] = (await host.client(MEDIA, id=rec["id"]))["recording"]["media"]
    http = host.client.http
    for h in [*HOSTILE, "+12"]:
        if not h or "\x00" in h or h != h.strip():
            continue  # not sendable as an HTTP header value (NUL, CR/LF, edge blanks are refused or trimmed)
        for header in (f"bytes={h}-", f"bytes=0-{h}", f"bytes=-{h}", f"bytes={h}-{h}"):
            res = await http.get(mp4["url"], headers={b"range": header.encode()})
            # 206 only where an ASCII start is cut to the end of the file ("bytes=0-<20 nines>").
            assert res.status_code in (200, 206, 416), (header[:40], res.status_code, res.text[:200])
            if res.status_code in (200, 206):
                assert res.content == body, header[:40]
            else:
                assert res.headers["content-range"] == f"bytes */{len(body)}"
    # Still served as before for ASCII ranges.
    res = await http.get(mp4["url"], headers={"Range": "bytes=10-19"})
    assert res.status_code == 206 and res.content == body[10:20]


async def _raw_upload(server: RunningServer, token: str, meeting_id: str, length: bytes) -> bytes:
    """A POST with a Content-Length the HTTP client would not send; returns the status line and headers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.settings.port)
    try:
        writer.write(
            b"POST /meetings/" + meeting_id.encode() + b"/files?filename=a.txt HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\nAuthorization: Bearer " + token.encode() + b"\r\n"
            b"Content-Length: " + length + b"\r\nConnection: close\r\n\r\nhello"
        )
        await writer.drain()
        return await asyncio.wait_for(reader.read(4096), 10)
    finally:
        writer.close()


async def test_uploads_with_hostile_content_lengths_are_refused(server: RunningServer, world: World) -> None:
    host, m = await live(world)
    assert host.client.token is not None
    for h in [*HOSTILE, "+12"]:
        if h in ("", "\x00", "1\x002") or h != h.strip():
            continue  # header framing (NUL, CR/LF; edge blanks are trimmed as OWS), not a number
        answer = await _raw_upload(server, host.client.token, m["id"], h.encode())
        status = int(answer.split(b" ", 2)[1])
        assert 400 <= status < 500, (h[:20], answer[:300])


async def test_chat_cursors_decoding_to_hostile_positions_are_bad_input(world: World) -> None:
    host, m = await live(world)
    for i in range(3):
        await host.client(SEND, i={"meetingId": m["id"], "text": f"m{i}"})
    first = (await host.client(HISTORY, m=m["id"]))["chatMessages"]
    assert first["nextCursor"] is None or (await host.client(HISTORY, m=m["id"], before=first["nextCursor"]))
    cursors = [base64.urlsafe_b64encode(f"chat|{h}".encode()).decode() for h in [*HOSTILE, "+12"]]
    cursors += [
        "!!!",
        "chat|1",  # not base64-encoded at all
        base64.urlsafe_b64encode(b"\xff\xfe\x00garbage").decode(),
        base64.urlsafe_b64encode(b"meet|12").decode(),
        base64.urlsafe_b64encode(b"chat").decode(),
        "A" * 10_000,
    ]
    for cursor in cursors:
        err = await host.client.error(HISTORY, m=m["id"], before=cursor)
        assert (err.code, err.field) == ("BAD_INPUT", "before"), (cursor[:40], err)


RRULE_PARTS = {  # each number mid-rule: blanks at the very end of a rule are trimmed, legitimately
    "COUNT": "FREQ=DAILY;COUNT={};WKST=MO",
    "INTERVAL": "FREQ=DAILY;INTERVAL={};WKST=MO",
    "BYMONTH": "FREQ=YEARLY;BYMONTH={};WKST=MO",
    "BYMONTHDAY": "FREQ=MONTHLY;BYMONTHDAY={};WKST=MO",
    "BYSETPOS": "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS={};WKST=MO",
    "BYDAY": "FREQ=MONTHLY;BYDAY={}MO;WKST=MO",
    "BYMONTHDAY list": "FREQ=MONTHLY;BYMONTHDAY=1,{};WKST=MO",
}


async def test_recurrence_numbers_must_be_ascii_and_in_range(world: World) -> None:
    host = await world.user()
    starts = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for part, template in RRULE_PARTS.items():
        signed = part.startswith(("BYMONTHDAY", "BYSETPOS", "BYDAY"))
        for h in [*HOSTILE, *([] if signed else ["+12"])]:
            if (signed and h in SIGNED_OK) or (part == "BYDAY" and h == ""):
                continue  # valid: "-1" is the last one, and a BYDAY without an ordinal is plain "MO"
            rule = template.format(h)
            err = await host.client.error(CREATE, i={"title": "r", "startsAt": starts, "recurrence": rule})
            assert (err.code, err.field) == ("BAD_INPUT", "recurrence"), (part, h[:20], err)
    for until in ["٢٠٣٠٠١٠١T000000Z", "２０３０0101T000000Z", "20300101T000000Z\n", "2030-01-01", "99999999T999999Z"]:
        err = await host.client.error(
            CREATE, i={"title": "r", "startsAt": starts, "recurrence": f"FREQ=DAILY;UNTIL={until};WKST=MO"}
        )
        assert (err.code, err.field) == ("BAD_INPUT", "recurrence"), (until, err)
    # ASCII forms (with the signs RFC 5545 allows) are still fine, and stored as given.
    for rule in ["FREQ=DAILY;COUNT=3", "FREQ=MONTHLY;BYMONTHDAY=-1", "FREQ=MONTHLY;BYDAY=+1MO", "FREQ=DAILY;COUNT=03"]:
        made = (await host.client(CREATE, i={"title": "r", "startsAt": starts, "recurrence": rule}))["createMeeting"]
        assert made["recurrence"] == rule


async def test_time_zones_that_are_not_iana_names_are_bad_input(world: World) -> None:
    host = await world.user()
    for tz in ["Europe", "America", "a" * 5000, "Europe/" + "a" * 300, "Etc/GMT+٣", "UTC\x00", "../../etc/passwd"]:
        err = await host.client.error(CREATE, i={"title": "t", "timezone": tz})
        assert (err.code, err.field) == ("BAD_INPUT", "timezone"), (tz[:40], err)
    made = (await host.client(CREATE, i={"title": "t", "timezone": "Asia/Kolkata"}))["createMeeting"]
    assert made["timezone"] == "Asia/Kolkata"


MINE = """query($after: String) { myMeetings(filter: UPCOMING, first: 5, after: $after) { nextCursor } }"""


async def test_meeting_list_cursors_with_hostile_timestamps_are_bad_input(world: World) -> None:
    host = await world.user()
    await host.client(CREATE, i={"title": "t", "startsAt": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
    stamps = [f"{h}-01-01T00:00:00+00:00" for h in HOSTILE if h.strip() and "\x00" not in h]
    stamps += ["2030-01-01T00:00:00+٠٠:٠٠", "2030-01-01T00:00:00.٣+00:00", "2030-13-01T00:00:00+00:00", "9" * 5000]
    for stamp in stamps:
        cursor = base64.urlsafe_b64encode(f"{stamp}|abc".encode()).decode()
        err = await host.client.error(MINE, after=cursor)
        assert (err.code, err.field) == ("BAD_INPUT", "after"), (stamp[:40], err)
