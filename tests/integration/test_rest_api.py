"""The REST façade /api/v1 (issue 18) against the real server on SQLite and PostgreSQL: meetings, participants,
recordings and transcripts through the same domain services as GraphQL, errors with GraphQL's codes and the
right statuses, cursor pagination, Idempotency-Key on creates."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from api.recordings import service as recordings_service
from api.recordings.transcripts import Line, save
from tests.conftest import RunningServer
from tests.support.rest import Rest, api_key
from tests.support.world import Person, World, live_meeting

pytestmark = pytest.mark.timeout(120)


async def rest_for(
    server: RunningServer, http: httpx.AsyncClient, who: Person, scopes: list[str] | None = None
) -> Rest:
    secret, _ = await api_key(who, scopes)
    return Rest(server.url, http, secret)


async def test_meeting_lifecycle_matches_graphql(server: RunningServer, world: World, http: httpx.AsyncClient) -> None:
    ada = await world.user("Ada")
    rest = await rest_for(server, http, ada)
    res = await rest("POST", "/meetings", json={"title": "Weekly", "settings": {"max_participants": 12}})
    assert res.status_code == 201
    m = res.json()
    assert (m["title"], m["kind"], m["status"], m["my_role"]) == ("Weekly", "instant", "scheduled", "host")
    assert m["settings"]["max_participants"] == 12 and m["has_passcode"]  # instant: a generated passcode
    assert m["invite_link"].endswith(f"/m/{m['number']}?k=" + m["invite_link"].rsplit("?k=", 1)[1])
    gql = (await ada.client("query($id: ID!) { meeting(id: $id) { number inviteLink } }", id=m["id"]))["meeting"]
    assert (gql["number"], gql["inviteLink"]) == (m["number"], m["invite_link"])
    assert (await rest.ok("GET", f"/meetings/{m['id']}"))["id"] == m["id"]
    changed = await rest.ok("PATCH", f"/meetings/{m['id']}", json={"title": "Weekly sync", "passcode": ""})
    assert (changed["title"], changed["has_passcode"]) == ("Weekly sync", False)
    cancelled = await rest.ok("POST", f"/meetings/{m['id']}/cancel")
    assert cancelled["status"] == "cancelled"
    body = await rest.error("PATCH", f"/meetings/{m['id']}", 409, "MEETING_ENDED", json={"title": "Again"})
    assert "cancelled" in body["error"]
    await rest.error("POST", f"/meetings/{m['id']}/cancel", 409, "MEETING_ENDED")


async def test_errors_carry_graphql_codes_and_statuses(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    ada, bob = await world.user("Ada"), await world.user("Bob")
    rest = await rest_for(server, http, ada)
    await Rest(server.url, http, None).error("GET", "/meetings", 401, "UNAUTHENTICATED")
    await Rest(server.url, http, "Basic abc").error(
        "GET", "/me", 401, "UNAUTHENTICATED", headers={"authorization": "Basic abc"}
    )
    await rest.error("GET", "/meetings/nope", 404, "NOT_FOUND")
    body = await rest.error("GET", "/meetings?first=0", 400, "BAD_INPUT")
    assert body["field"] == "first"
    await rest.error("GET", "/meetings?filter=sideways", 400, "BAD_INPUT")
    await rest.error("GET", "/meetings?after=bm90IGEgY3Vyc29y", 400, "BAD_INPUT")
    body = await rest.error(
        "POST", "/meetings", 400, "BAD_INPUT", json={"title": "x", "settings": {"max_participants": 5000}}
    )
    assert body["field"] == "settings.maxParticipants"
    await rest.error("POST", "/meetings", 400, "BAD_INPUT", json={"title": "x", "settings": {"chat_policy": "all"}})
    await rest.error("POST", "/meetings", 400, "BAD_INPUT", json={"title": "x", "starts_at": "2026-13-45"})
    await rest.error(
        "POST", "/meetings", 400, "BAD_INPUT", content=b"{not json", headers={"content-type": "application/json"}
    )
    await rest.error("POST", "/meetings", 400, "BAD_INPUT", json={"title": "nul \x00 inside"})
    await rest.error("POST", "/meetings", 400, "BAD_INPUT", json={"description": "no title"})
    too_big = await rest.error(
        "POST", "/meetings", 413, "PAYLOAD_TOO_LARGE", json={"title": "x", "description": "y" * 70_000}
    )
    assert "error" in too_big
    m = (await rest("POST", "/meetings", json={"title": "Ada's"})).json()
    bobs = await rest_for(server, http, bob)
    await bobs.error("GET", f"/meetings/{m['id']}", 403, "FORBIDDEN")
    await bobs.error("PATCH", f"/meetings/{m['id']}", 403, "FORBIDDEN", json={"title": "mine now"})
    await bobs.error("POST", f"/meetings/{m['id']}/end", 403, "FORBIDDEN")


async def test_meetings_are_paged_with_cursors(server: RunningServer, world: World, http: httpx.AsyncClient) -> None:
    ada = await world.user("Ada")
    rest = await rest_for(server, http, ada)
    made = []
    for n in range(5):
        starts = f"2031-0{n + 1}-01T09:00:00+00:00"
        made.append((await rest("POST", "/meetings", json={"title": f"M{n}", "starts_at": starts})).json()["id"])
    seen: list[str] = []
    after: str | None = None
    for _ in range(5):
        params: dict[str, Any] = {"first": 2, **({"after": after} if after else {})}
        page = await rest.ok("GET", "/meetings", params=params)
        seen += [m["id"] for m in page["items"]]
        after = page["next_cursor"]
        if after is None:
            break
    assert seen == made  # upcoming: soonest first, each once


async def test_idempotency_key_replays_the_first_create(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    ada = await world.user("Ada")
    rest = await rest_for(server, http, ada)
    body = {"title": "Once", "passcode": ""}
    first = await rest("POST", "/meetings", json=body, headers={"idempotency-key": "create-once-1"})
    again = await rest("POST", "/meetings", json=body, headers={"idempotency-key": "create-once-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = await rest.error(
        "POST", "/meetings", 409, "CONFLICT", json={"title": "Twice"}, headers={"idempotency-key": "create-once-1"}
    )
    assert "another request body" in other["error"]
    # Parallel retries with one key create one meeting: the rest are told CONFLICT or get the same answer.
    answers = await asyncio.gather(
        *(rest("POST", "/meetings", json={"title": "Race"}, headers={"idempotency-key": "race-1"}) for _ in range(6))
    )
    ids = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(ids) == 1 and all(a.status_code in (201, 409) for a in answers)
    titles = [m["title"] for m in (await rest.ok("GET", "/meetings", params={"first": 100}))["items"]]
    assert titles.count("Race") == 1 and titles.count("Once") == 1
    # Another caller's identical key is theirs: it creates their own meeting.
    bob = await world.user("Bob")
    bobs = await (await rest_for(server, http, bob))(
        "POST", "/meetings", json=body, headers={"idempotency-key": "create-once-1"}
    )
    assert bobs.status_code == 201 and bobs.json()["id"] != first.json()["id"]
    # A failed create releases its key: the corrected retry goes through.
    await rest.error("POST", "/meetings", 400, "BAD_INPUT", json={"title": ""}, headers={"idempotency-key": "fix-1"})
    assert (
        await rest("POST", "/meetings", json={"title": ""}, headers={"idempotency-key": "fix-1"})
    ).status_code == 400
    assert (
        await rest("POST", "/meetings", json={"title": "ok"}, headers={"idempotency-key": "fix-2"})
    ).status_code == 201
    for bad in ("bad key", "x" * 300):
        await rest.error("POST", "/meetings", 400, "BAD_INPUT", json=body, headers={"idempotency-key": bad})


async def test_participants_list_admit_remove(server: RunningServer, world: World, http: httpx.AsyncClient) -> None:
    host, m = await live_meeting(world, guestWaitingRoom=True)
    rest = await rest_for(server, http, host)
    guest, joined = await world.join(None, m, name="Visitor")
    assert joined["status"] == "WAITING"
    waiting = await rest.ok("GET", f"/meetings/{m['id']}/participants", params={"state": "waiting"})
    assert [p["display_name"] for p in waiting["items"]] == ["Visitor"]
    admitted = await rest.ok("POST", f"/meetings/{m['id']}/participants/{guest.participant_id}/admit")
    assert admitted["state"] == "admitted"
    everyone = await rest.ok("GET", f"/meetings/{m['id']}/participants", params={"first": 1})
    assert len(everyone["items"]) == 1 and everyone["next_cursor"]
    rest_page = await rest.ok(
        "GET", f"/meetings/{m['id']}/participants", params={"first": 1, "after": everyone["next_cursor"]}
    )
    assert {everyone["items"][0]["display_name"], rest_page["items"][0]["display_name"]} == {"Host", "Visitor"}
    assert rest_page["next_cursor"] is None
    # A participant of this meeting named under another meeting of the same host: not there.
    other = (await rest("POST", "/meetings", json={"title": "Other", "passcode": ""})).json()
    await rest.error("DELETE", f"/meetings/{other['id']}/participants/{guest.participant_id}", 404, "NOT_FOUND")
    removed = await rest.ok("DELETE", f"/meetings/{m['id']}/participants/{guest.participant_id}")
    assert removed["state"] == "removed"
    both = await rest.ok(
        "GET", f"/meetings/{m['id']}/participants", params=[("state", "admitted"), ("state", "removed")]
    )
    assert sorted(p["state"] for p in both["items"]) == ["admitted", "removed"]
    # Scopes: a read-only key lists but may not admit; a member who is not a host may not see the waiting room.
    reader = await rest_for(server, http, host, ["participants:read"])
    await reader.error("POST", f"/meetings/{m['id']}/participants/{guest.participant_id}/admit", 403, "FORBIDDEN")
    bob = await world.user("Bob")
    await world.join(bob, m)
    # Accounts skip the guests' waiting room: admitting Bob again is a conflict of state, not a server error.
    await rest.error("POST", f"/meetings/{m['id']}/participants/{bob.participant_id}/admit", 409, "CONFLICT")
    bobs = await rest_for(server, http, bob)
    await bobs.error("GET", f"/meetings/{m['id']}/participants", 403, "FORBIDDEN", params={"state": "waiting"})
    assert len((await bobs.ok("GET", f"/meetings/{m['id']}/participants"))["items"]) == 2
    ended = await rest.ok("POST", f"/meetings/{m['id']}/end")
    assert ended["status"] == "ended"


START = "mutation($m: ID!) { startRecording(meetingId: $m) { id } }"
STOP = "mutation($m: ID!) { stopRecording(meetingId: $m) { id status } }"


async def test_recordings_transcripts_links_shares(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    host, m = await live_meeting(world, title="Recorded")
    rec = (await host.client(START, m=m["id"]))["startRecording"]
    svc = server.app.state.services
    await save(
        svc, rec["id"], [Line(3.0, 5.0, None, "Bob", "second"), Line(1.0, 2.0, host.participant_id, "Host", "first")]
    )
    rest = await rest_for(server, http, host)
    listed = await rest.ok("GET", f"/meetings/{m['id']}/recordings")
    assert [r["id"] for r in listed["items"]] == [rec["id"]] and listed["items"][0]["status"] == "recording"
    await rest.error("DELETE", f"/recordings/{rec['id']}", 409, "CONFLICT")  # stop it first
    await host.client(STOP, m=m["id"])
    got = await rest.ok("GET", f"/recordings/{rec['id']}")
    assert got["status"] == "stopped" and got["meeting_id"] == m["id"]
    transcript = await rest.ok("GET", f"/recordings/{rec['id']}/transcript")
    assert [(x["start_s"], x["speaker_name"], x["text"]) for x in transcript["lines"]] == [
        (1.0, "Host", "first"),
        (3.0, "Bob", "second"),
    ]
    await rest.error("GET", f"/recordings/{rec['id']}/transcript/vtt", 404, "NOT_FOUND")  # not transcribed yet
    folder = recordings_service.recording_dir(svc, rec["id"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "captions.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Host>first\n")
    (folder / "transcript.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHost: first\n")
    vtt = await rest("GET", f"/recordings/{rec['id']}/transcript/vtt")
    assert (
        vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt") and vtt.text.startswith("WEBVTT")
    )
    srt = await rest("GET", f"/recordings/{rec['id']}/transcript/srt")
    assert srt.status_code == 200 and "Host: first" in srt.text
    links = (await rest.ok("GET", f"/recordings/{rec['id']}/downloads"))["items"]
    assert sorted(x["name"] for x in links) == ["captions.vtt", "transcript.srt"]
    fetched = await http.get(next(x["url"] for x in links if x["name"] == "captions.vtt"))
    assert fetched.status_code == 200 and fetched.text.startswith("WEBVTT")
    share = await rest(
        "POST", f"/recordings/{rec['id']}/shares", json={"expires_in_hours": 2}, headers={"idempotency-key": "s1"}
    )
    again = await rest(
        "POST", f"/recordings/{rec['id']}/shares", json={"expires_in_hours": 2}, headers={"idempotency-key": "s1"}
    )
    assert share.status_code == again.status_code == 201 and share.json()["id"] == again.json()["id"]
    assert share.json()["url"].endswith(f"/s/{share.json()['id']}")
    await rest.error("POST", f"/recordings/{rec['id']}/shares", 400, "BAD_INPUT", json={"expires_in_hours": 0})
    # Someone who never attended sees nothing; a read-only key may not delete.
    stranger = await rest_for(server, http, await world.user("Eve"))
    await stranger.error("GET", f"/recordings/{rec['id']}/transcript", 403, "FORBIDDEN")
    await stranger.error("GET", f"/recordings/{rec['id']}/downloads", 403, "FORBIDDEN")
    reader = await rest_for(server, http, host, ["recordings:read"])
    await reader.error("DELETE", f"/recordings/{rec['id']}", 403, "FORBIDDEN")
    gone = await rest("DELETE", f"/recordings/{rec['id']}")
    assert gone.status_code == 204
    await rest.error("GET", f"/recordings/{rec['id']}", 404, "NOT_FOUND")
    assert not folder.exists()


LINKS = """query($id: ID!) { meeting(id: $id) { calendarLinks {
  ics google outlook office365 sequence includesPasscode skippedOccurrences } } }"""


async def test_calendar_links_are_graphqls(server: RunningServer, world: World, http: httpx.AsyncClient) -> None:
    ada = await world.user("Ada")
    rest = await rest_for(server, http, ada)
    body = {
        "title": "Standup",
        "starts_at": "2031-03-03T09:00:00+01:00",
        "timezone": "Europe/Berlin",
        "duration_minutes": 15,
        "recurrence": "FREQ=WEEKLY;BYDAY=MO;COUNT=4",
        "passcode": "",
    }
    m = (await rest("POST", "/meetings", json=body)).json()
    links = await rest.ok("GET", f"/meetings/{m['id']}/calendar-links")
    gql = (await ada.client(LINKS, id=m["id"]))["meeting"]["calendarLinks"]
    assert links == {
        "ics": gql["ics"],
        "google": gql["google"],
        "outlook": gql["outlook"],
        "office365": gql["office365"],
        "sequence": gql["sequence"],
        "includes_passcode": gql["includesPasscode"],
        "skipped_occurrences": gql["skippedOccurrences"],
    }
    assert links["ics"] == f"{server.url}/calendar/meetings/{m['id']}.ics"
    assert "recur=RRULE%3AFREQ%3DWEEKLY" in links["google"] and links["sequence"] == 0
    ics = await http.get(links["ics"], headers={"authorization": f"Bearer {rest.token}"})
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert f"UID:{m['id']}@" in ics.text and "RRULE:FREQ=WEEKLY;COUNT=4;BYDAY=MO" in ics.text
    # A change of time bumps SEQUENCE: the links follow the meeting.
    await rest.ok("PATCH", f"/meetings/{m['id']}", json={"starts_at": "2031-03-03T10:00:00+01:00"})
    assert (await rest.ok("GET", f"/meetings/{m['id']}/calendar-links"))["sequence"] == 1
    # Whoever may not read the meeting may not read its links; a key needs meetings:read.
    await (await rest_for(server, http, await world.user("Eve"))).error(
        "GET", f"/meetings/{m['id']}/calendar-links", 403, "FORBIDDEN"
    )
    await rest.error("GET", "/meetings/nope/calendar-links", 404, "NOT_FOUND")
    no_scope = await rest_for(server, http, ada, ["recordings:read"])
    body_ = await no_scope.error("GET", f"/meetings/{m['id']}/calendar-links", 403, "FORBIDDEN")
    assert "meetings:read" in body_["error"]


async def test_calendar_feed_with_a_session_only(server: RunningServer, world: World, http: httpx.AsyncClient) -> None:
    ada = await world.user("Ada")
    session = Rest(server.url, http, ada.client.token)
    await session.error("GET", "/me/calendar-feed", 404, "NOT_FOUND")
    await session.error("DELETE", "/me/calendar-feed", 404, "NOT_FOUND")
    m = (await session("POST", "/meetings", json={"title": "Fed", "starts_at": "2031-05-01T09:00:00+00:00"})).json()
    res = await session("POST", "/me/calendar-feed")
    assert res.status_code == 201
    made = res.json()
    assert made["url"].startswith(f"{server.url}/calendar/feed/") and made["url"].endswith(".ics")
    assert made["webcal_url"] == "webcal://" + made["url"].split("://", 1)[1]
    assert made["google_subscribe_url"].startswith("https://calendar.google.com/calendar/r?cid=webcal")
    feed = await http.get(made["url"])  # no credentials: the URL is the permission
    assert feed.status_code == 200 and f"UID:{m['id']}@" in feed.text
    assert (await session.ok("GET", "/me/calendar-feed"))["created_at"] == made["created_at"]
    assert (await ada.client("{ calendarFeed { createdAt } }"))["calendarFeed"] is not None
    rotated = (await session("POST", "/me/calendar-feed")).json()
    assert rotated["url"] != made["url"]
    assert (await http.get(made["url"])).status_code == 404 and (await http.get(rotated["url"])).status_code == 200
    # Not for API keys (as on GraphQL, where these fields are refused to every key): 403, nothing changed.
    key = await rest_for(server, http, ada)
    for method in ("GET", "POST", "DELETE"):
        await key.error(method, "/me/calendar-feed", 403, "FORBIDDEN")
    assert (await http.get(rotated["url"])).status_code == 200
    gone = await session("DELETE", "/me/calendar-feed")
    assert gone.status_code == 204
    assert (await http.get(rotated["url"])).status_code == 404
    await session.error("GET", "/me/calendar-feed", 404, "NOT_FOUND")
    assert (await ada.client("{ calendarFeed { createdAt } }"))["calendarFeed"] is None
    await Rest(server.url, http, None).error("POST", "/me/calendar-feed", 401, "UNAUTHENTICATED")
