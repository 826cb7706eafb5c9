"""The breakout open → closing → closed cycle (api/breakouts/deadline.py), driven with an explicit clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.breakouts import deadline
from api.breakouts.deadline import Phase, Schedule

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_rooms_without_a_timer_stay_open() -> None:
    s = deadline.opened(T0, minutes=None, grace_s=60)
    assert s.phase is Phase.OPEN and s.closes_at is None
    assert deadline.advance(s, at(10 * 24 * 3600)) == (s, [])


def test_the_timer_starts_the_countdown_and_the_countdown_brings_everyone_back() -> None:
    s = deadline.opened(T0, minutes=5, grace_s=30)
    assert s.closes_at == at(300)
    assert not deadline.due(s, at(299.999))
    closing, entered = deadline.advance(s, at(300))
    assert entered == [Phase.CLOSING]
    assert closing.returns_at == at(330) and closing.closes_at is None
    assert deadline.advance(closing, at(329)) == (closing, [])
    done, entered = deadline.advance(closing, at(330))
    assert entered == [Phase.CLOSED] and done == Schedule(Phase.CLOSED, 30)


def test_a_late_look_counts_the_countdown_from_when_the_timer_ran_out() -> None:
    s = deadline.opened(T0, minutes=1, grace_s=60)
    closing, _ = deadline.advance(s, at(90))  # noticed 30 s late: 30 s of countdown left, not 60
    assert closing.returns_at == at(120)


def test_when_both_deadlines_passed_unseen_rooms_close_without_a_countdown() -> None:
    # e.g. every API process was down meanwhile: nobody can be warned any more.
    s = deadline.opened(T0, minutes=1, grace_s=60)
    assert deadline.advance(s, at(3600)) == (Schedule(Phase.CLOSED, 60), [Phase.CLOSED])


def test_a_timer_without_grace_closes_at_once() -> None:
    s = deadline.opened(T0, minutes=1, grace_s=0)
    assert deadline.advance(s, at(60)) == (Schedule(Phase.CLOSED, 0), [Phase.CLOSED])


def test_advancing_is_idempotent() -> None:
    s = deadline.opened(T0, minutes=1, grace_s=60)
    for now in (at(30), at(60), at(61), at(120), at(500)):
        once, _ = deadline.advance(s, now)
        assert deadline.advance(once, now) == (once, [])
        s = once


def test_a_meeting_that_is_no_longer_live_closes_its_rooms_at_once() -> None:
    for s in (
        deadline.opened(T0, minutes=None, grace_s=60),
        deadline.close(deadline.opened(T0, minutes=None, grace_s=60), T0, 60),
    ):
        assert deadline.advance(s, T0, live=False) == (Schedule(Phase.CLOSED, 60), [Phase.CLOSED])
    assert deadline.advance(Schedule(), T0, live=False) == (Schedule(), [])


def test_closing_by_hand() -> None:
    s = deadline.opened(T0, minutes=10, grace_s=60)
    closing = deadline.close(s, at(5), 15)
    assert (closing.phase, closing.returns_at, closing.closes_at) == (Phase.CLOSING, at(20), None)
    assert closing.grace_s == 60  # the timer's setting is kept for next time
    assert deadline.close(s, at(5), 0) == Schedule(Phase.CLOSED, 60)


def test_during_a_countdown_only_an_earlier_deadline_wins() -> None:
    closing = deadline.close(deadline.opened(T0, minutes=None, grace_s=60), T0, 30)
    assert deadline.close(closing, at(10), 60) == closing  # would give the rooms more time than announced
    sooner = deadline.close(closing, at(10), 5)
    assert sooner.returns_at == at(15)
    assert deadline.close(closing, at(10), 0).phase is Phase.CLOSED


def test_closed_rooms_cannot_be_closed() -> None:
    with pytest.raises(ValueError):
        deadline.close(Schedule(), T0, 60)
