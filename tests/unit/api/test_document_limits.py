"""The linear document limits: depth, aliases and cost with fragments, cycles, the web client's documents."""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from graphql import get_introspection_query, parse

from api.graphql.document_limits import DocumentLimits, check_document, make_validator, measure_operations
from api.graphql.schema import schema
from bench.graphql_validation import AT_THE_LIMITS, RULES, SHAPES, doubling_fragments, hostile_documents
from tests.support.web_documents import web_documents

SCHEMA = schema._schema
LIMITS = DocumentLimits()
WEB = Path(__file__).resolve().parents[3] / "web"


def measure(document: str) -> tuple[int, int, int]:
    (m,) = measure_operations(SCHEMA, parse(document), LIMITS).values()
    return m.depth, m.aliases, m.cost


def messages(document: str, limits: DocumentLimits = LIMITS) -> list[str]:
    return [e.message for e in check_document(SCHEMA, parse(document), limits)]


def test_fields_cost_one_and_depth_counts_nesting_below_the_root() -> None:
    assert measure("{ __typename }") == (0, 0, 1)
    assert measure("{ me { id email } }") == (1, 0, 3)
    assert measure("{ a: me { id } b: me { x: id } }") == (1, 3, 4)


def test_lists_multiply_by_their_page_argument_or_the_default() -> None:
    # myMeetings(first: 10) pages a connection: its items count 10 times, not 10 x 20.
    assert measure("{ myMeetings(first: 10) { items { id } } }") == (2, 0, 1 + 10 * (1 + 1))
    # No `first`: the argument's schema default (20).
    assert measure("{ myMeetings { items { id } } }") == (2, 0, 1 + 20 * 2)
    # A variable page size counts as the largest page the services accept.
    assert measure("query($f: Int!) { myMeetings(first: $f) { items { id } } }") == (2, 0, 1 + 100 * 2)
    # A list without a page argument: the default list size, nested lists multiply.
    assert measure('{ meeting(id: "1") { participants { id } } }') == (2, 0, 1 + 1 + 20)
    nested = "{ myMeetings(first: 5) { items { participants { id role } } } }"
    assert measure(nested) == (3, 0, 1 + 5 * (1 + (1 + 20 * 2)))
    # A 5,000-digit page size must not reach int() (ValueError beyond 4,300 digits).
    assert "costs over" in messages("{ myMeetings(first: " + "9" * 5000 + ") { items { id } } }")[0]


def test_fragments_count_at_every_spread() -> None:
    inline = "{ me { id } me { email } }"
    spread = "{ ...A ...B } fragment A on Query { me { id } } fragment B on Query { me { email } }"
    assert measure(inline) == measure(spread) == (1, 0, 4)
    aliased = "{ ...A ...A ...A } fragment A on Query { x: __typename y: __typename }"
    assert measure(aliased) == (0, 6, 6)
    # Depth through spreads: the fragment's depth adds to where it is spread.
    deep = '{ meeting(id: "1") { ...P } } fragment P on Meeting { participants { id } }'
    assert measure(deep)[0] == 2


def _best_of_three(work: Callable[[], object]) -> float:
    """The fastest of three timed runs of ``work`` (seconds), the garbage collector paused meanwhile."""
    times = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(3):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
    finally:
        if enabled:
            gc.enable()
    return min(times)


def test_doubling_fragments_are_measured_exactly_and_quickly() -> None:
    assert measure(doubling_fragments(20)) == (0, 0, 2**20)
    # Refused first for spreading more fragments into one selection set than graphql-core may compare...
    assert messages(doubling_fragments(20)) == ["a selection set spreads 9 fragments; the limit is 8"]
    deep = doubling_fragments(300)
    assert messages(deep) == ["the document nests selections 302 deep; the limit is 24"]
    # ~17 ms here; an exponential walk would not finish. Best of three with the collector off: a full run's
    # garbage collection once stalled one attempt past 0.5 s, which says nothing about the algorithm.
    assert _best_of_three(lambda: messages(deep)) < 0.5
    # ...and without those limits, for its cost.
    shape_unbounded = DocumentLimits(max_nesting=10**6, max_merged_fragments=10**6)
    assert messages(doubling_fragments(20), shape_unbounded) == ["the operation costs 1,048,576; the limit is 20,000"]
    assert messages(doubling_fragments(300), shape_unbounded) == [
        "the operation costs over 1,000,000,000,000,000; the limit is 20,000"
    ]


def test_cycles_are_reported_not_followed() -> None:
    assert messages("{ ...A } fragment A on Query { ...A }") == ['Cannot spread fragment "A" within itself.']
    ring = "{ ...F0 }" + "".join(f" fragment F{i} on Query {{ ...F{(i + 1) % 500} }}" for i in range(500))
    assert len(messages(ring)) == 1
    # A chain far longer than the recursion limit is walked without recursion.
    chain = "{ ...F0 }" + "".join(f" fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(5000))
    chain += " fragment F5000 on Query { __typename }"
    assert measure(chain) == (0, 0, 1)


def test_each_limit_names_the_value_and_the_limit() -> None:
    tight = DocumentLimits(max_depth=1, max_aliases=1, max_cost=3)
    assert messages("{ a: me { id } b: me { id } }", tight) == [
        "the operation has 2 aliases; the limit is 1",
        "the operation costs 4; the limit is 3",
    ]
    assert messages('query Q { meeting(id: "1") { participants { id } } }', tight) == [
        'operation "Q" nests fields 2 deep; the limit is 1',
        'operation "Q" costs 22; the limit is 3',
    ]


def test_introspection_is_accepted_but_nesting_its_lists_is_not() -> None:
    assert messages(get_introspection_query(descriptions=True)) == []
    assert messages("{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }") == [
        "the operation nests 4 introspection lists; the limit is 3"
    ]


@pytest.mark.parametrize("name", sorted(AT_THE_LIMITS))
def test_documents_at_the_limits_pass_them(name: str) -> None:
    assert messages(AT_THE_LIMITS[name]) == []


def test_every_web_client_document_is_within_the_limits() -> None:
    documents = web_documents(WEB)
    assert len(documents) >= 15, sorted(documents)  # the extraction found the client's operations
    costs = {}
    for where, text in documents.items():
        assert messages(text) == [], where
        (m,) = measure_operations(SCHEMA, parse(text), LIMITS).values()
        costs[where] = m.cost
    # Headroom: the costliest client document stays far under the limit.
    assert max(costs.values()) * 10 < LIMITS.max_cost, costs


@pytest.mark.parametrize("name", sorted([*SHAPES, *AT_THE_LIMITS]))
def test_hostile_shapes_within_the_size_limits_validate_quickly(name: str) -> None:
    n, text = hostile_documents(LIMITS, only=name)[name]
    validate = make_validator(LIMITS, cache_size=1)
    document = parse(text, max_tokens=LIMITS.max_tokens)
    elapsed = _best_of_three(lambda: validate(SCHEMA, document, RULES))
    # The bench measures < 50 ms for the slowest; 0.5 s leaves room for a loaded CI host.
    assert elapsed < 0.5, f"{name} (n={n}) took {elapsed * 1000:.0f} ms"


def test_the_recordings_list_document_built_at_its_chunk_size_is_within_the_limits() -> None:
    # web/app/recordings.js builds `query Recordings($m0: ID!, …) { m0: recordings(meetingId: $m0) {…} … }` for
    # CHUNK meetings per request (not a literal the extraction above can see): the same shape, at that size.
    source = (WEB / "app" / "recordings.js").read_text()
    chunk = int(re.search(r"export const CHUNK = ([0-9]+);", source).group(1))  # type: ignore[union-attr]
    fields = re.search(r'const RECORDING = "([^"]+)";', source).group(1)  # type: ignore[union-attr]
    ids = range(chunk)
    document = (
        "query Recordings("
        + ", ".join(f"$m{i}: ID!" for i in ids)
        + ") { "
        + " ".join(f"m{i}: recordings(meetingId: $m{i}) {{ {fields} }}" for i in ids)
        + " }"
    )
    assert messages(document) == []
    (m,) = measure_operations(SCHEMA, parse(document), LIMITS).values()
    assert m.aliases == chunk
