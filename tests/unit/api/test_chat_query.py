"""Search input → FTS5 / tsquery syntax, and marked snippets → highlight segments."""

from __future__ import annotations

import pytest

from api.chat import search
from api.chat.search import MATCH_END as E
from api.chat.search import MATCH_START as S
from api.chat.search import Segment, Term
from api.errors import BadInputError


def test_words_become_quoted_terms() -> None:
    terms = search.parse('Budget "review" OR snake_case plan* NEAR(x')
    assert terms == [
        Term("budget", False),
        Term("review", False),
        Term("or", False),
        Term("snake", False),
        Term("case", False),
        Term("plan", True),
        Term("near", False),
        Term("x", False),
    ]
    assert search.fts5_query(terms[:2] + terms[5:6]) == '"budget" "review" "plan"*'
    assert search.tsquery(terms[:2] + terms[5:6]) == "'budget' & 'review' & 'plan':*"


def test_only_a_starred_words_last_part_is_a_prefix() -> None:
    assert search.parse("foo_bar*") == [Term("foo", False), Term("bar", True)]
    assert search.parse("über straße") == [Term("über", False), Term("straße", False)]


def test_terms_are_capped() -> None:
    assert len(search.parse(" ".join(f"w{i}" for i in range(40)))) == search.MAX_TERMS


@pytest.mark.parametrize("query", ["", "  ", "*", '"" && !!', "x" * 513])
def test_queries_without_words_are_bad_input(query: str) -> None:
    with pytest.raises(BadInputError) as err:
        search.parse(query)
    assert err.value.field == "query"


def test_segments() -> None:
    assert search.segments(f"we {S}plan{E} the {S}plan{E}") == [
        Segment("we ", False),
        Segment("plan", True),
        Segment(" the ", False),
        Segment("plan", True),
    ]
    assert search.segments(f"{S}all{E}") == [Segment("all", True)]
    assert search.segments("plain") == [Segment("plain", False)]
    assert search.segments("") == []
    assert search.segments(f"cut {S}mid") == [Segment("cut ", False), Segment("mid", True)]
    assert search.segments(f"{S}{E}x") == [Segment("x", False)]
