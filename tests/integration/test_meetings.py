"""Meetings through the public GraphQL API: create, validate, recur, update, cancel, end, list, look up."""

from __future__ import annotations

import base64
import json
import random
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.support.gql import Client
from tests.support.world import World

FIELDS = """id number numberDisplay title description kind status startsAt durationMinutes timezone recurrence
  hasPasscode locked startedAt endedAt myRole
  settings { waitingRoom joinBeforeHost muteOnEntry allowGuests allowSelfUnmute hostOnlyScreenShare
             maxParticipants autoRecord }"""
CREATE = f"mutation($i: CreateMeetingInput!) {{ createMeeting(input: $i) {{ {FIELDS} }} }}"
UPDATE = f"mutation($id: ID!, $i: UpdateMeetingInput!) {{ updateMeeting(id: $id, input: $i) {{ {FIELDS} }} }}"
CANCEL = "mutation($id: ID!) { cancelMeeting(id: $id) { id status } }"
END = "mutation($id: ID!) { endMeeting(id: $id) { id status endedAt } }"
MEETING = f"query($id: ID!) {{ meeting(id: $id) {{ {FIELDS} }} }}"
OCCURRENCES = "query($id: ID!, $n: Int!) { meeting(id: $id) { nextOccurrences(count: $n) } }"
LOBBY = (
    "query($n: String!) { meetingLobby(number: $n) { number title hostName hasPasscode allowGuests status startsAt } }"
)
MINE = """query($f: MeetingListFilter!, $first: Int!, $after: String) {
  myMeetings(filter: $f, first: $first, after: $after) { items { id title status startsAt } nextCursor } }"""
JOIN = """mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { status participant { id state } } }"""


def _in(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def _create(client: Client, **i: Any) -> dict[str, Any]:
    """A meeting without the generated passcode (these tests predate it; test_meeting_defaults covers it)."""
    i.setdefault("passcode", "")
    data = await client(CREATE, i={"title": "Standup", **i})
    m: dict[str, Any] = data["createMeeting"]
    return m


async def _bad_input(client: Client, query: str, field: str | None, **variables: Any) -> str:
    err = await client.error(query, **variables)
    assert err.code == "BAD_INPUT", err
    if field is not None:
        assert err.field == field, err
    return str(err)


# -- creating ----------------------------------------------------------------------------------------------


async def test_instant_meeting_has_a_number_defaults_and_no_start(world: World) -> None:
    host = await world.user("Hana")
    before = datetime.now(UTC)
    m = (await host.client(CREATE, i={"title": "Standup"}))["createMeeting"]
    after = datetime.now(UTC)

    assert re.fullmatch(r"[1-9][0-9]{10}", m["number"]), m["number"]
    n = m["number"]
    assert m["numberDisplay"] == f"{n[:3]} {n[3:7]} {n[7:]}"
    assert m["kind"] == "INSTANT" and m["status"] == "SCHEDULED"
    assert before - timedelta(seconds=1) <= _dt(m["startsAt"]) <= after + timedelta(seconds=1)
    assert (m["durationMinutes"], m["timezone"], m["recurrence"]) == (60, "UTC", None)
    # An instant meeting gets a passcode unless its host says otherwise (test_meeting_defaults).
    assert (m["hasPasscode"], m["locked"], m["startedAt"], m["endedAt"]) == (True, False, None, None)
    assert m["myRole"] == "HOST" and m["description"] == ""
    assert m["settings"] == {
        "waitingRoom": False,
        "joinBeforeHost": False,
        "muteOnEntry": False,
        "allowGuests": True,
        "allowSelfUnmute": True,
        "hostOnlyScreenShare": False,
        "maxParticipants": 100,
        "autoRecord": False,
    }
    # The same facts come back from a fresh read.
    again = (await host.client(MEETING, id=m["id"]))["meeting"]
    assert {k: v for k, v in again.items() if k != "startsAt"} == {k: v for k, v in m.items() if k != "startsAt"}
    assert _dt(again["startsAt"]) == _dt(m["startsAt"])


async def test_ids_are_opaque_and_numbers_unique(world: World) -> None:
    host = await world.user()
    made = [await _create(host.client, title=f"M{i}") for i in range(4)]
    ids = [m["id"] for m in made]
    assert len(set(ids)) == 4 and len({m["number"] for m in made}) == 4
    for m in made:
        assert re.fullmatch(r"[A-Za-z0-9_-]{16,}", m["id"]), m["id"]
        assert not m["id"].isdigit() and m["number"] not in m["id"]


async def test_scheduled_meeting_keeps_its_settings_and_start(world: World) -> None:
    host = await world.user()
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    paris = starts.astimezone(ZoneInfo("Europe/Paris"))
    m = await _create(
        host.client,
        title="  Planning  ",
        description="Quarterly planning",
        startsAt=paris.isoformat(),
        durationMinutes=90,
        timezone="Europe/Paris",
        settings={"waitingRoom": True, "maxParticipants": 2, "allowGuests": False, "muteOnEntry": True},
    )
    assert m["kind"] == "SCHEDULED" and m["status"] == "SCHEDULED"
    assert m["title"] == "Planning" and m["description"] == "Quarterly planning"
    assert _dt(m["startsAt"]) == starts
    assert (m["durationMinutes"], m["timezone"]) == (90, "Europe/Paris")
    s = m["settings"]
    assert (s["waitingRoom"], s["maxParticipants"], s["allowGuests"], s["muteOnEntry"]) == (True, 2, False, True)
    assert (s["joinBeforeHost"], s["allowSelfUnmute"]) == (False, True)  # untouched defaults
    stored = (await host.client(MEETING, id=m["id"]))["meeting"]
    assert _dt(stored["startsAt"]) == starts and stored["settings"] == s
    assert (await host.client(OCCURRENCES, id=m["id"], n=5))["meeting"]["nextOccurrences"] == [stored["startsAt"]]


async def test_max_participants_bounds_are_inclusive(world: World) -> None:
    host = await world.user()
    for n in (2, 1000):
        m = await _create(host.client, settings={"maxParticipants": n})
        assert m["settings"]["maxParticipants"] == n


async def test_the_passcode_is_returned_only_to_hosts_who_ask_for_it(world: World, anon: Client) -> None:
    host, member = await world.user(), await world.user()
    raw = await host.client.raw(
        CREATE, i={"title": "Secret", "passcode": "Sesame42", "settings": {"joinBeforeHost": True}}
    )
    assert raw["data"]["createMeeting"]["hasPasscode"] is True
    assert "Sesame42" not in json.dumps(raw)  # not unless asked for
    m = raw["data"]["createMeeting"]
    assert "Sesame42" not in json.dumps(await host.client.raw(MEETING, id=m["id"]))
    assert "Sesame42" not in json.dumps(await anon.raw(LOBBY, n=m["number"]))
    # One field returns it, to the host and co-hosts; the invite link carries a key, not the passcode.
    fields = await anon('{ __type(name: "Meeting") { fields { name } } }')
    names = {f["name"] for f in fields["__type"]["fields"]}
    assert sorted(n for n in names if "passcode" in n.lower()) == ["hasPasscode", "passcode"]
    read = "query($id: ID!) { meeting(id: $id) { passcode inviteLink } }"
    mine = (await host.client(read, id=m["id"]))["meeting"]
    assert mine["passcode"] == "Sesame42" and "Sesame42" not in mine["inviteLink"]
    await world.join(member, m, passcode="Sesame42")
    assert (await member.client.error(read, id=m["id"])).code == "FORBIDDEN"
    assert (await anon.error(read, id=m["id"])).code == "UNAUTHENTICATED"


async def test_create_validation_names_the_field(world: World) -> None:
    host = await world.user()
    future = _in(days=2)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "bell\x07"}, "title"),
        ({"title": "ok", "description": "d" * 5001}, "description"),
        ({"title": "ok", "settings": {"maxParticipants": 1}}, "settings.maxParticipants"),
        ({"title": "ok", "settings": {"maxParticipants": 1001}}, "settings.maxParticipants"),
        ({"title": "ok", "settings": {"maxParticipants": -5}}, "settings.maxParticipants"),
        ({"title": "ok", "timezone": "Mars/Olympus"}, "timezone"),
        ({"title": "ok", "timezone": ""}, "timezone"),
        ({"title": "ok", "timezone": "../../etc/passwd"}, "timezone"),
        ({"title": "ok", "durationMinutes": 0}, "durationMinutes"),
        ({"title": "ok", "durationMinutes": 24 * 60 + 1}, "durationMinutes"),
        ({"title": "ok", "startsAt": "2031-06-01T09:00:00"}, "startsAt"),  # no UTC offset
        ({"title": "ok", "startsAt": _in(days=-1)}, "startsAt"),
        ({"title": "ok", "startsAt": future, "recurrence": "FREQ=SOMETIMES"}, "recurrence"),
        ({"title": "ok", "startsAt": future, "recurrence": "not a rule"}, "recurrence"),
        ({"title": "ok", "startsAt": future, "recurrence": "FREQ=WEEKLY;BYDAY=XX"}, "recurrence"),
        ({"title": "ok", "startsAt": future, "recurrence": "FREQ=HOURLY;COUNT=3"}, "recurrence"),
        ({"title": "ok", "startsAt": future, "recurrence": "FREQ=WEEKLY;COUNT=0"}, "recurrence"),
        ({"title": "ok", "recurrence": "FREQ=WEEKLY;BYDAY=MO"}, "recurrence"),  # instant meetings do not recur
        ({"title": "ok", "passcode": "abc"}, "passcode"),
        ({"title": "ok", "passcode": "abcdefghijk"}, "passcode"),
        ({"title": "ok", "passcode": "ab cd"}, "passcode"),
        ({"title": "ok", "passcode": "pass-1"}, "passcode"),
    ]
    for i, field in cases:
        await _bad_input(host.client, CREATE, field, i=i)
    # Nothing was created along the way.
    mine = (await host.client(MINE, f="UPCOMING", first=50))["myMeetings"]
    assert mine["items"] == []


async def test_unparseable_start_is_bad_input(world: World) -> None:
    host = await world.user()
    for value in ("tomorrow", "2031-13-01T09:00:00+00:00", "", "12:00"):
        await _bad_input(host.client, CREATE, None, i={"title": "ok", "startsAt": value})


async def test_start_near_the_end_of_time_is_bad_input_not_internal(world: World) -> None:
    # A start the calendar can hold, but whose end (start + duration) it cannot.
    host = await world.user()
    for starts in ("9999-12-31T23:30:00+00:00", "9999-12-31T23:59:00-05:00"):
        await _bad_input(host.client, CREATE, None, i={"title": "ok", "startsAt": starts, "durationMinutes": 60})


async def test_a_meeting_that_started_recently_is_not_in_the_past(world: World) -> None:
    host = await world.user()
    m = await _create(host.client, startsAt=_in(minutes=-30), durationMinutes=60)
    assert m["kind"] == "SCHEDULED"


async def test_creating_needs_an_account(anon: Client, world: World) -> None:
    assert (await anon.error(CREATE, i={"title": "x"})).code == "UNAUTHENTICATED"
    host = await world.user()
    m = await _create(host.client)
    _, joined = await world.join(None, m)
    guest = anon.with_token(joined["guestToken"])
    assert (await guest.error(CREATE, i={"title": "x"})).code == "UNAUTHENTICATED"


# -- recurrence ----------------------------------------------------------------------------------------------


def _next_dst_change(zone: ZoneInfo, after: date) -> date:
    """The first day whose noon has a different UTC offset than the day before's."""
    prev = datetime.combine(after, time(12), zone).utcoffset()
    for i in range(1, 400):
        d = after + timedelta(days=i)
        off = datetime.combine(d, time(12), zone).utcoffset()
        if off != prev:
            return d
        prev = off
    raise AssertionError("no DST change within a year")


async def test_weekly_series_in_paris_keeps_nine_local_across_dst(world: World) -> None:
    paris = ZoneInfo("Europe/Paris")
    today = datetime.now(UTC).date()
    change = _next_dst_change(paris, today + timedelta(days=7))
    monday = change - timedelta(days=(change.weekday() % 7) or 7)  # the Monday before the change
    assert monday.weekday() == 0 and monday > today
    first = datetime.combine(monday, time(9), paris)

    host = await world.user()
    m = await _create(
        host.client,
        startsAt=first.astimezone(UTC).isoformat(),
        timezone="Europe/Paris",
        recurrence="RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3",
    )
    assert m["recurrence"] == "FREQ=WEEKLY;BYDAY=MO;COUNT=3"
    occ = [_dt(v) for v in (await host.client(OCCURRENCES, id=m["id"], n=10))["meeting"]["nextOccurrences"]]
    assert len(occ) == 3
    for o in occ:
        local = o.astimezone(paris)
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0), local
    assert [o.astimezone(paris).date() for o in occ] == [monday + timedelta(weeks=k) for k in range(3)]
    utc_hours = [o.astimezone(UTC).hour for o in occ]
    assert utc_hours[1] == utc_hours[2]
    assert abs(utc_hours[0] - utc_hours[1]) == 1, utc_hours
    # Asking for fewer gives the first ones.
    two = (await host.client(OCCURRENCES, id=m["id"], n=2))["meeting"]["nextOccurrences"]
    assert [_dt(v) for v in two] == occ[:2]


async def test_update_can_add_and_remove_a_recurrence(world: World) -> None:
    host = await world.user()
    m = await _create(host.client, startsAt=_in(days=1))
    rec = (await host.client(UPDATE, id=m["id"], i={"recurrence": "FREQ=DAILY;COUNT=4"}))["updateMeeting"]
    assert rec["recurrence"] == "FREQ=DAILY;COUNT=4"
    assert len((await host.client(OCCURRENCES, id=m["id"], n=10))["meeting"]["nextOccurrences"]) == 4
    await _bad_input(host.client, UPDATE, "recurrence", id=m["id"], i={"recurrence": "FREQ=NEVER"})
    plain = (await host.client(UPDATE, id=m["id"], i={"recurrence": ""}))["updateMeeting"]
    assert plain["recurrence"] is None
    assert len((await host.client(OCCURRENCES, id=m["id"], n=10))["meeting"]["nextOccurrences"]) == 1
    instant = await _create(host.client)
    await _bad_input(host.client, UPDATE, "recurrence", id=instant["id"], i={"recurrence": "FREQ=DAILY"})


# -- updating ------------------------------------------------------------------------------------------------


async def test_update_is_for_the_host_only(world: World, anon: Client) -> None:
    host, other = await world.user(), await world.user()
    m = await _create(host.client, passcode="1234")
    assert m["hasPasscode"] is True

    u = (
        await host.client(
            UPDATE,
            id=m["id"],
            i={"title": "Renamed", "description": "Agenda", "settings": {"waitingRoom": True, "maxParticipants": 5}},
        )
    )["updateMeeting"]
    assert (u["title"], u["description"], u["hasPasscode"]) == ("Renamed", "Agenda", True)
    assert (u["settings"]["waitingRoom"], u["settings"]["maxParticipants"]) == (True, 5)
    assert u["settings"]["allowGuests"] is True  # not mentioned, not changed

    # A participant who is in the meeting may still not change it; nor may a stranger or nobody.
    await world.join(host, {"number": m["number"]})
    await host.client(UPDATE, id=m["id"], i={"settings": {"waitingRoom": False}})
    _, joined = await world.join(other, {"number": m["number"]}, passcode="1234")
    assert joined["status"] == "ADMITTED"
    assert (await other.client.error(UPDATE, id=m["id"], i={"title": "Mine"})).code == "FORBIDDEN"
    stranger = await world.user()
    assert (await stranger.client.error(UPDATE, id=m["id"], i={"title": "Mine"})).code == "FORBIDDEN"
    assert (await anon.error(UPDATE, id=m["id"], i={"title": "Mine"})).code == "UNAUTHENTICATED"
    assert (await host.client.error(UPDATE, id="nope", i={"title": "x"})).code == "NOT_FOUND"
    assert (await host.client(MEETING, id=m["id"]))["meeting"]["title"] == "Renamed"

    # Validation applies to updates too.
    await _bad_input(host.client, UPDATE, "title", id=m["id"], i={"title": ""})
    await _bad_input(
        host.client, UPDATE, "settings.maxParticipants", id=m["id"], i={"settings": {"maxParticipants": 1}}
    )
    await _bad_input(host.client, UPDATE, "passcode", id=m["id"], i={"passcode": "x"})
    await _bad_input(host.client, UPDATE, "timezone", id=m["id"], i={"timezone": "Mars/Olympus"})

    # An empty passcode removes it; the lobby agrees.
    cleared = (await host.client(UPDATE, id=m["id"], i={"passcode": ""}))["updateMeeting"]
    assert cleared["hasPasscode"] is False
    assert (await anon(LOBBY, n=m["number"]))["meetingLobby"]["hasPasscode"] is False
    newcomer = await world.user()
    _, j = await world.join(newcomer, {"number": m["number"]})
    assert j["status"] == "ADMITTED"


async def test_update_sets_a_new_passcode_that_joining_then_needs(world: World) -> None:
    host, guest_user = await world.user(), await world.user()
    m = await _create(host.client, startsAt=_in(days=1), settings={"joinBeforeHost": True})
    u = (await host.client(UPDATE, id=m["id"], i={"passcode": "NewCode9"}))["updateMeeting"]
    assert u["hasPasscode"] is True
    i = {"number": m["number"]}
    assert (await guest_user.client.error(JOIN, i=i)).code == "BAD_PASSCODE"
    assert (await guest_user.client(JOIN, i={**i, "passcode": "NewCode9"}))["joinMeeting"]["status"] == "ADMITTED"


# -- cancelling and ending -------------------------------------------------------------------------------------


async def test_cancel_a_scheduled_meeting(world: World, anon: Client) -> None:
    host, other = await world.user(), await world.user()
    m = await _create(host.client, startsAt=_in(days=2))
    assert (await other.client.error(CANCEL, id=m["id"])).code == "FORBIDDEN"
    c = (await host.client(CANCEL, id=m["id"]))["cancelMeeting"]
    assert c == {"id": m["id"], "status": "CANCELLED"}
    assert (await host.client(MEETING, id=m["id"]))["meeting"]["status"] == "CANCELLED"
    assert (await anon(LOBBY, n=m["number"]))["meetingLobby"]["status"] == "CANCELLED"
    assert (await other.client.error(JOIN, i={"number": m["number"]})).code == "MEETING_ENDED"
    assert (await host.client.error(JOIN, i={"number": m["number"]})).code == "MEETING_ENDED"
    assert (await anon.error(JOIN, i={"number": m["number"], "displayName": "G"})).code == "MEETING_ENDED"
    assert (await host.client.error(CANCEL, id=m["id"])).code == "MEETING_ENDED"
    assert (await host.client.error(UPDATE, id=m["id"], i={"title": "Back"})).code == "MEETING_ENDED"
    assert (await host.client(OCCURRENCES, id=m["id"], n=5))["meeting"]["nextOccurrences"] == []


async def test_cancelling_a_live_meeting_is_a_conflict(world: World) -> None:
    host = await world.user()
    m = await _create(host.client)
    await world.join(host, m)
    assert (await host.client(MEETING, id=m["id"]))["meeting"]["status"] == "LIVE"
    assert (await host.client.error(CANCEL, id=m["id"])).code == "CONFLICT"
    assert (await host.client(MEETING, id=m["id"]))["meeting"]["status"] == "LIVE"


async def test_ending_a_one_off_meeting_is_final(world: World) -> None:
    host, other = await world.user(), await world.user()
    m = await _create(host.client)
    await world.join(host, m)
    _, j = await world.join(other, m)
    assert j["status"] == "ADMITTED"
    live = (await host.client(MEETING, id=m["id"]))["meeting"]
    assert live["status"] == "LIVE" and live["startedAt"] is not None

    assert (await other.client.error(END, id=m["id"])).code == "FORBIDDEN"
    ended = (await host.client(END, id=m["id"]))["endMeeting"]
    assert ended["status"] == "ENDED" and ended["endedAt"] is not None
    for who in (host, other):
        assert (await who.client.error(JOIN, i={"number": m["number"]})).code == "MEETING_ENDED"
    assert (await host.client.error(END, id=m["id"])).code == "MEETING_ENDED"
    parts = await host.client(
        "query($id: ID!) { meeting(id: $id) { status participants(states: [ADMITTED, LEFT]) { state } } }", id=m["id"]
    )
    assert parts["meeting"]["status"] == "ENDED"
    assert [p["state"] for p in parts["meeting"]["participants"]] == ["LEFT", "LEFT"]


async def test_ending_a_recurring_meeting_returns_it_to_scheduled(world: World) -> None:
    host, other = await world.user(), await world.user()
    m = await _create(host.client, startsAt=_in(minutes=5), recurrence="FREQ=DAILY;COUNT=5")
    await world.join(host, m)
    await world.join(other, m)
    assert (await host.client(MEETING, id=m["id"]))["meeting"]["status"] == "LIVE"
    ended = (await host.client(END, id=m["id"]))["endMeeting"]
    assert ended["status"] == "SCHEDULED"
    assert len((await host.client(OCCURRENCES, id=m["id"], n=10))["meeting"]["nextOccurrences"]) == 5

    _, again = await world.join(host, m)
    assert again["status"] == "ADMITTED" and again["participant"]["state"] == "ADMITTED"
    assert (await host.client(MEETING, id=m["id"]))["meeting"]["status"] == "LIVE"
    _, back = await world.join(other, m)
    assert back["status"] == "ADMITTED"


# -- listing -----------------------------------------------------------------------------------------------


async def _all_pages(client: Client, filter: str, first: int) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    after: str | None = None
    pages = 0
    while True:
        page = (await client(MINE, f=filter, first=first, after=after))["myMeetings"]
        pages += 1
        assert len(page["items"]) <= first
        items += page["items"]
        after = page["nextCursor"]
        if after is None:
            return items, pages
        assert pages < 20, "pagination does not end"


async def test_upcoming_is_soonest_first_across_pages(world: World) -> None:
    host = await world.user()
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    offsets = [5, 1, 4, 2, 3, 3]  # in days; two share a start, so the id must break the tie
    random.Random(7).shuffle(offsets)
    made = [await _create(host.client, title=f"D{d}", startsAt=(base + timedelta(days=d)).isoformat()) for d in offsets]
    # Not upcoming: cancelled, or over.
    cancelled = await _create(host.client, startsAt=(base + timedelta(hours=1)).isoformat())
    await host.client(CANCEL, id=cancelled["id"])

    items, pages = await _all_pages(host.client, "UPCOMING", 2)
    assert pages == 3
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) == 6
    assert set(ids) == {m["id"] for m in made}
    starts = [_dt(i["startsAt"]) for i in items]
    assert starts == sorted(starts)
    assert [i["title"] for i in items][:4] == ["D1", "D2", "D3", "D3"]

    # Someone else's meetings are not in my list; one I joined is.
    other = await world.user()
    theirs = await _create(
        other.client, startsAt=(base + timedelta(hours=2)).isoformat(), settings={"joinBeforeHost": True}
    )
    items, _ = await _all_pages(host.client, "UPCOMING", 50)
    assert theirs["id"] not in {i["id"] for i in items}
    await world.join(host, theirs)
    items, _ = await _all_pages(host.client, "UPCOMING", 50)
    assert theirs["id"] in {i["id"] for i in items}


async def test_past_is_latest_first_across_pages(world: World) -> None:
    host = await world.user()
    ended = []
    for k in range(3):
        m = await _create(host.client, title=f"E{k}")
        await world.join(host, m)
        await host.client(END, id=m["id"])
        ended.append(m)
    cancelled = await _create(host.client, title="C", startsAt=_in(days=1))
    await host.client(CANCEL, id=cancelled["id"])
    still_open = await _create(host.client, title="open")

    past, pages = await _all_pages(host.client, "PAST", 2)
    assert pages == 2
    ids = [i["id"] for i in past]
    assert len(ids) == len(set(ids)) == 4
    assert still_open["id"] not in ids
    starts = [_dt(i["startsAt"]) for i in past]
    assert starts == sorted(starts, reverse=True)
    assert [i["title"] for i in past] == ["C", "E2", "E1", "E0"]
    assert {i["status"] for i in past} == {"ENDED", "CANCELLED"}
    upcoming, _ = await _all_pages(host.client, "UPCOMING", 10)
    assert [i["id"] for i in upcoming] == [still_open["id"]]


async def test_my_meetings_checks_its_arguments(world: World, anon: Client) -> None:
    host = await world.user()
    await _create(host.client)
    assert (await anon.error(MINE, f="UPCOMING", first=5)).code == "UNAUTHENTICATED"
    for first in (0, 101, -1):
        await _bad_input(host.client, MINE, "first", f="UPCOMING", first=first)
    await _bad_input(host.client, MINE, "after", f="UPCOMING", first=5, after="!!not-a-cursor!!")


async def test_a_forged_cursor_is_bad_input_not_internal(world: World) -> None:
    host = await world.user()
    await _create(host.client)
    # Well-formed base64 of "<timestamp>|<id>", but the timestamp has no offset.
    forged = base64.urlsafe_b64encode(b"2030-01-01T00:00:00|abc").decode()
    for f in ("UPCOMING", "PAST"):
        await _bad_input(host.client, MINE, "after", f=f, first=5, after=forged)


# -- reading -------------------------------------------------------------------------------------------------


async def test_lobby_is_public(world: World, anon: Client) -> None:
    host = await world.user("Hosting Hilda")
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    m = await _create(
        host.client, title="Town hall", startsAt=starts.isoformat(), passcode="9876", settings={"allowGuests": False}
    )
    lobby = (await anon(LOBBY, n=m["numberDisplay"]))["meetingLobby"]
    assert lobby["number"] == m["number"]
    assert (lobby["title"], lobby["hostName"], lobby["hasPasscode"], lobby["allowGuests"], lobby["status"]) == (
        "Town hall",
        "Hosting Hilda",
        True,
        False,
        "SCHEDULED",
    )
    assert _dt(lobby["startsAt"]) == starts
    n = m["number"]
    dashed = (await anon(LOBBY, n=f"{n[:3]}-{n[3:7]}-{n[7:]}"))["meetingLobby"]
    assert dashed["number"] == n
    await _bad_input(anon, LOBBY, "number", n="12ab")
    unknown = "1" + ("0" if n[1] != "0" else "1") + n[2:]
    assert (await anon.error(LOBBY, n=unknown)).code == "NOT_FOUND"


async def test_meeting_by_id_is_for_host_and_participants(world: World, anon: Client) -> None:
    host, member, stranger = await world.user(), await world.user(), await world.user()
    m = await _create(host.client, settings={"joinBeforeHost": True})
    assert (await stranger.client.error(MEETING, id=m["id"])).code == "FORBIDDEN"
    assert (await anon.error(MEETING, id=m["id"])).code == "UNAUTHENTICATED"
    assert (await host.client.error(MEETING, id="does-not-exist")).code == "NOT_FOUND"
    assert (await anon.error(MEETING, id="does-not-exist")).code == "UNAUTHENTICATED"
    await world.join(member, m)
    seen = (await member.client(MEETING, id=m["id"]))["meeting"]
    assert seen["id"] == m["id"] and seen["myRole"] == "PARTICIPANT"
    assert (await stranger.client.error(MEETING, id=m["id"])).code == "FORBIDDEN"
