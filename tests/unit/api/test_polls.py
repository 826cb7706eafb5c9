"""The pure rules of api/polls: input checks, choice rules, who sees counts, the anonymous release batches and
the snapshots events carry. No database: rows are built in memory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.errors import BadInputError
from api.participants.permissions import Role
from api.polls.service import (
    ANONYMOUS_RELEASE_BATCH,
    MAX_OPTIONS,
    PollKind,
    check_choice,
    clean_options,
    clean_question,
    releases_now,
    results_visible,
)
from api.polls.types import PollResults, PollState
from api.polls.views import percent, poll_snapshot, results_snapshot
from dbschema.polls import Poll, PollOption

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class _Field:
    """`with _Field("options[1]"):` expects a BadInputError naming that field."""

    def __init__(self, field: str) -> None:
        self.field = field

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        assert isinstance(exc, BadInputError), f"expected BadInputError on {self.field}, got {exc!r}"
        assert exc.field == self.field, exc.field
        return True


def test_question_is_trimmed_and_bounded() -> None:
    assert clean_question("  Lunch?  ") == "Lunch?"
    assert clean_question("Line one\nline two") == "Line one\nline two"
    assert len(clean_question("q" * 500)) == 500
    for bad in ("", "   ", "q" * 501, "bell\x07"):
        with _Field("question"):
            clean_question(bad)


def test_options_count_length_lines_and_duplicates() -> None:
    assert clean_options([" Yes ", "No"]) == ["Yes", "No"]
    assert len(clean_options([f"o{i}" for i in range(MAX_OPTIONS)])) == MAX_OPTIONS
    for values in ([], ["one"], [f"o{i}" for i in range(MAX_OPTIONS + 1)]):
        with _Field("options"):
            clean_options(values)
    cases = [
        (["a", ""], "options[1]"),
        (["a", "b" * 201], "options[1]"),
        (["two\nlines", "b"], "options[0]"),
        (["Yes", "No", "yes"], "options[2]"),
        (["Big  cat", "big cat"], "options[1]"),  # spacing and case alone do not make another answer
        (["ﬁne", "fine"], "options[1]"),  # NFKC: the ligature is the same word
    ]
    for values, field in cases:
        with _Field(field):
            clean_options(values)


def test_single_choice_takes_exactly_one_known_option() -> None:
    ids = ["a", "b", "c"]
    assert check_choice(PollKind.SINGLE, ["b"], ids) == ["b"]
    for choice in ([], ["a", "b"], ["z"], ["a", "a"]):
        with _Field("optionIds"):
            check_choice(PollKind.SINGLE, choice, ids)


def test_multiple_choice_takes_distinct_known_options_in_poll_order() -> None:
    ids = ["a", "b", "c"]
    assert check_choice(PollKind.MULTIPLE, ["c", "a"], ids) == ["a", "c"]
    assert check_choice(PollKind.MULTIPLE, ["c", "b", "a"], ids) == ids
    for choice in ([], ["a", "a"], ["a", "z"]):
        with _Field("optionIds"):
            check_choice(PollKind.MULTIPLE, choice, ids)


@pytest.mark.parametrize("role", list(Role))
def test_who_sees_counts(role: Role) -> None:
    staff = role in (Role.HOST, Role.COHOST)
    assert results_visible("draft", False, role) is False
    assert results_visible("launched", False, role) is staff
    assert results_visible("ended", False, role) is staff
    assert results_visible("ended", True, role) is True


def test_anonymous_counts_are_released_in_whole_batches() -> None:
    released = [n for n in range(1, 4 * ANONYMOUS_RELEASE_BATCH + 1) if releases_now(n)]
    assert released == [ANONYMOUS_RELEASE_BATCH * k for k in range(1, 5)]
    assert ANONYMOUS_RELEASE_BATCH >= 3  # a batch of one or two would let a single vote be told apart


def test_percent_of_counted_voters() -> None:
    assert percent(0, 0) == 0.0
    assert percent(1, 3) == 33.3
    assert percent(2, 3) == 66.7
    assert percent(3, 3) == 100.0


def _poll(**kw: object) -> tuple[Poll, list[PollOption]]:
    fields: dict[str, object] = {
        "id": "p1",
        "meeting_id": "m1",
        "question": "Q?",
        "kind": "single",
        "anonymous": False,
        "status": "launched",
        "results_shared": False,
        "voter_count": 7,
        "released_voter_count": 5,
        "created_at": T0,
        "launched_at": T0,
        "ended_at": None,
    } | kw
    poll = Poll(**fields)
    # Deliberately out of order: snapshots follow position, not insertion.
    options = [
        PollOption(id="o2", poll_id="p1", position=1, text="B", votes=3, released_votes=2),
        PollOption(id="o1", poll_id="p1", position=0, text="A", votes=4, released_votes=3),
    ]
    return poll, options


def test_named_poll_results_count_every_vote() -> None:
    poll, options = _poll()
    r = results_snapshot(poll, options)
    assert r == {
        "pollId": "p1",
        "final": False,
        "voterCount": 7,
        "tallyVoterCount": 7,
        "options": [{"optionId": "o1", "votes": 4}, {"optionId": "o2", "votes": 3}],
    }


def test_open_anonymous_poll_shows_only_the_released_batch() -> None:
    poll, options = _poll(anonymous=True)
    r = results_snapshot(poll, options)
    assert (r["voterCount"], r["tallyVoterCount"]) == (7, 5)
    assert [o["votes"] for o in r["options"]] == [3, 2]
    poll.status = "ended"
    r = results_snapshot(poll, options)
    assert (r["final"], r["tallyVoterCount"], [o["votes"] for o in r["options"]]) == (True, 7, [4, 3])


def test_snapshots_round_trip_into_graphql_types() -> None:
    poll, options = _poll(anonymous=True, status="ended", ended_at=T0)
    state = PollState.from_snapshot(poll_snapshot(poll, options))
    assert [o.text for o in state.options] == ["A", "B"]
    assert state.anonymous is True and state.ended_at == T0
    snap = poll_snapshot(poll, options)
    assert "votes" not in str(snap) and "voter" not in str(snap)  # question and options never carry counts
    results = PollResults.from_snapshot(results_snapshot(poll, options))
    assert [(o.votes, o.percent) for o in results.options] == [(4, 57.1), (3, 42.9)]
