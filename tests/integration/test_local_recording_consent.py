"""Recording consent: a participant records locally only with the host's permission (the meeting setting or a
per-person grant), and everyone is told when a local recording starts and stops, including when the host
withdraws the permission mid-recording."""

from __future__ import annotations

from typing import Any

from tests.support.gql import Subscription
from tests.support.world import Person, World

SET = "mutation($m: ID!, $on: Boolean!) { setLocalRecording(meetingId: $m, recording: $on) { id recordingLocally } }"
GRANT = """mutation($p: ID!, $ok: Boolean!) {
  allowLocalRecording(participantId: $p, allowed: $ok) { id localRecordingGranted } }"""
UPDATE = "mutation($id: ID!, $i: UpdateMeetingInput!) { updateMeeting(id: $id, input: $i) { id } }"
LEAVE = "mutation($m: ID!) { leaveMeeting(meetingId: $m) { id } }"
EVENTS = """subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) {
  seq type ... on ParticipantEvent { participant { id recordingLocally localRecordingGranted } } } }"""
RECORDING_EVENTS = ("LOCAL_RECORDING_STARTED", "LOCAL_RECORDING_STOPPED")


async def _scene(world: World, **settings: Any) -> tuple[Person, Person, Person, dict[str, Any], int]:
    host, ann, bob = await world.user("Host"), await world.user("Ann"), await world.user("Bob")
    m = await world.meeting(host, joinBeforeHost=True, **settings)
    await world.join(host, m)
    await world.join(ann, m)
    _, data = await world.join(bob, m)
    return host, ann, bob, m, data["eventSeq"]


async def _recording_events(watch: Subscription, n: int) -> list[tuple[str, str, bool]]:
    got: list[tuple[str, str, bool]] = []
    while len(got) < n:
        ev = (await watch.next())["meetingEvents"]  # type: ignore[index]
        if ev["type"] in RECORDING_EVENTS:
            got.append((ev["type"], ev["participant"]["id"], ev["participant"]["recordingLocally"]))
    return got


async def test_without_permission_a_participant_cannot_start_and_nobody_is_told(world: World) -> None:
    host, ann, bob, m, seq = await _scene(world)
    async with bob.client.subscribe(EVENTS, m=m["id"], after=seq) as watch:
        err = await ann.client.error(SET, m=m["id"], on=True)
        assert err.code == "FORBIDDEN" and "not allowed" in err.errors[0]["message"]
        assert await watch.silent_for(0.5)
    # The host and co-hosts always may.
    assert (await host.client(SET, m=m["id"], on=True))["setLocalRecording"]["recordingLocally"] is True


async def test_a_grant_lets_one_person_record_and_everyone_sees_start_stop_and_withdrawal(world: World) -> None:
    host, ann, bob, m, seq = await _scene(world)
    async with bob.client.subscribe(EVENTS, m=m["id"], after=seq) as watch:
        await host.client(GRANT, p=ann.participant_id, ok=True)
        await ann.client(SET, m=m["id"], on=True)
        await ann.client(SET, m=m["id"], on=True)  # saying it twice tells nobody twice
        await ann.client(SET, m=m["id"], on=False)
        await ann.client(SET, m=m["id"], on=True)
        assert await _recording_events(watch, 3) == [
            ("LOCAL_RECORDING_STARTED", ann.participant_id, True),
            ("LOCAL_RECORDING_STOPPED", ann.participant_id, False),
            ("LOCAL_RECORDING_STARTED", ann.participant_id, True),
        ]
        # Bob was not granted anything.
        assert (await bob.client.error(SET, m=m["id"], on=True)).code == "FORBIDDEN"
        # The host withdraws the grant mid-recording: Ann's recording is stopped, and everyone is told.
        await host.client(GRANT, p=ann.participant_id, ok=False)
        assert await _recording_events(watch, 1) == [("LOCAL_RECORDING_STOPPED", ann.participant_id, False)]
    assert (await ann.client.error(SET, m=m["id"], on=True)).code == "FORBIDDEN"


async def test_the_meeting_setting_lets_everyone_and_turning_it_off_stops_those_without_a_grant(
    world: World,
) -> None:
    host, ann, bob, m, seq = await _scene(world, allowLocalRecording=True)
    await host.client(GRANT, p=bob.participant_id, ok=True)
    async with host.client.subscribe(EVENTS, m=m["id"], after=seq) as watch:
        await ann.client(SET, m=m["id"], on=True)
        await bob.client(SET, m=m["id"], on=True)
        await _recording_events(watch, 2)
        await host.client(UPDATE, id=m["id"], i={"settings": {"allowLocalRecording": False}})
        # Ann (no grant) is stopped; Bob (granted) goes on.
        assert await _recording_events(watch, 1) == [("LOCAL_RECORDING_STOPPED", ann.participant_id, False)]
        live = await host.client(
            "query($id: ID!) { meeting(id: $id) { participants { id recordingLocally } } }", id=m["id"]
        )
        recording = {p["id"] for p in live["meeting"]["participants"] if p["recordingLocally"]}
        assert recording == {bob.participant_id}
        await bob.client(LEAVE, m=m["id"])
    # Leaving ends one's local recording: who comes back is not recording.
    _, again = await world.join(bob, m)
    assert again["status"] == "ADMITTED"
    state = await host.client(
        "query($id: ID!) { meeting(id: $id) { participants { id recordingLocally } } }", id=m["id"]
    )
    assert {p["id"]: p["recordingLocally"] for p in state["meeting"]["participants"]}[bob.participant_id] is False
