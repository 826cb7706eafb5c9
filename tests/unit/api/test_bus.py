from __future__ import annotations

from api.bus import MemoryBus
from api.events.stream import Viewer
from api.participants.permissions import Role
from protocol.events import Audience, EventType, MeetingEvent


def event(seq: int, meeting: str = "m1", **kw: object) -> MeetingEvent:
    base: dict[str, object] = {"type": EventType.PARTICIPANT_UPDATED, "audience": Audience.ALL, "at": 0.0}
    base.update(kw)
    return MeetingEvent(meeting_id=meeting, seq=seq, **base)  # type: ignore[arg-type]


async def test_slow_subscriber_drops_oldest_and_never_blocks_others() -> None:
    bus = MemoryBus()
    slow = await bus.subscribe("m1", maxsize=3)
    fast = await bus.subscribe("m1", maxsize=100)
    other = await bus.subscribe("m2", maxsize=10)
    for seq in range(1, 11):
        await bus.publish(event(seq))
    assert slow.dropped == 7
    assert [(await slow.get()).seq for _ in range(3)] == [8, 9, 10]
    assert [(await fast.get()).seq for _ in range(10)] == list(range(1, 11))
    assert other.pending() == 0
    slow.close()
    fast.close()
    assert bus.subscriber_count("m1") == 0


def test_event_json_round_trip() -> None:
    e = event(7, subject_id="p1", participant={"id": "p1", "role": "guest"}, data={"participantIds": ["a"]})
    assert MeetingEvent.from_json(e.to_json()) == e


def test_visibility_rules() -> None:
    host = Viewer("h", Role.HOST, personal=False)
    cohost = Viewer("c", Role.COHOST, personal=False)
    plain = Viewer("p", Role.PARTICIPANT, personal=False)
    waiting = Viewer("w", Role.GUEST, personal=True)
    waiting_ev = event(1, audience=Audience.HOSTS, subject_id="w", type=EventType.PARTICIPANT_WAITING)
    ask = event(2, audience=Audience.SUBJECT, subject_id="p", type=EventType.UNMUTE_REQUESTED)
    public_other = event(3, subject_id="x")
    ended = event(4, type=EventType.MEETING_ENDED)
    assert [v.sees(waiting_ev) for v in (host, cohost, plain, waiting)] == [True, True, False, True]
    assert [v.sees(ask) for v in (host, cohost, plain, waiting)] == [False, False, True, False]
    assert [v.sees(public_other) for v in (host, plain, waiting)] == [True, True, False]
    assert all(v.sees(ended) for v in (host, plain, waiting))


def test_promotion_is_tracked_and_final_events_end_the_stream() -> None:
    v = Viewer("p", Role.PARTICIPANT, personal=False)
    promoted = event(1, subject_id="p", participant={"role": "cohost"})
    assert v.observe(promoted) is False and v.role is Role.COHOST
    assert v.sees(event(2, audience=Audience.HOSTS, subject_id="x"))
    assert v.observe(event(3, subject_id="p", participant={"role": "cohost"}, type=EventType.PARTICIPANT_REMOVED))
    assert v.observe(event(4, type=EventType.MEETING_ENDED))
