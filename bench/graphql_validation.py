"""GraphQL validation under hostile documents: the slowest parse + validation of any document within the limits.

Each shape below is grown to the largest instance that still fits the document limits (bytes and tokens), then
parsed and validated the way the API does it (``DocumentLimiter``'s validator, uncached), a few times; the
slowest shape's median is ``graphql_worst_case_validation_ms`` (validation only, as the target is stated; the
parse time is reported beside it). Runs in this process, no server needed: ``python -m bench --only
graphql_validation``. The integration tests send some of the same documents to a real server.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping

from graphql import GraphQLError, GraphQLSyntaxError, parse, specified_rules

from api.graphql.document_limits import DocumentLimits, make_validator, utf8_length
from api.graphql.schema import build_schema
from bench.results import Value

ROUNDS = 5
RULES = tuple(specified_rules)
"""What Strawberry validates with (``ExecutionContext.validation_rules``); its own two rules are added later."""


def doubling_fragments(levels: int) -> str:
    """An anonymous query whose fragments each spread the next one twice, ending in ``__typename``: expanded, it
    has 2^levels fields (the shape that made Strawberry's depth and alias limiters exponential)."""
    parts = ["query { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    parts.append(f"fragment F{levels} on Query {{ __typename }}")
    return "\n".join(parts)


def _frags(n: int, body: str, spread_at_root: int | None = None) -> str:
    k = n if spread_at_root is None else spread_at_root
    root = "{" + "".join(f" ...F{i}" for i in range(k)) + " }"
    return root + "".join(f" fragment F{i} on Query {{ {body} }}" for i in range(n))


SHAPES: dict[str, Callable[[int], str]] = {
    # Exponential for per-spread walkers; linear here (each fragment measured once).
    "doubling_fragments": doubling_fragments,
    # OverlappingFieldsCanBeMerged compares fields sharing a response name pairwise.
    "same_name_leaves": lambda n: "{" + " __typename" * n + " }",
    "same_name_objects": lambda n: "{" + " me { id email }" * n + " }",
    "same_name_objects_via_fragments": lambda n: _frags(n, "me { id email }"),
    "distinct_fragments_at_root": lambda n: _frags(n, "__typename"),
    # A chain of spreads: recursion in naive walkers.
    "fragment_chain": lambda n: (
        "{ ...F0 }"
        + "".join(f" fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(n))
        + f" fragment F{n} on Query {{ __typename }}"
    ),
    "fragment_cycle_ring": lambda n: (
        "{ ...F0 }" + "".join(f" fragment F{i} on Query {{ ...F{(i + 1) % n} __typename }}" for i in range(max(n, 1)))
    ),
    # Conflicting alias: errors at every pair, capped by graphql-core's max_errors.
    "conflicting_aliases": lambda n: "{" + "".join(f" a: {f}" for f in ["__typename", "me { id }"] * n) + " }",
    "nested_selections": lambda n: "{" + " me {" * n + " id" + " }" * (n + 1),
    "nested_inline_fragments": lambda n: "{" + " ... on Query {" * n + " __typename" + " }" * (n + 1),
    "nested_list_argument": lambda n: "{ meeting(id: " + "[" * n + "1" + "]" * n + ") { id } }",
    "many_variables": lambda n: "query(" + "".join(f" $v{i}: Int" for i in range(n)) + ") { __typename }",
    "many_directives": lambda n: "{ __typename" + " @include(if: true)" * n + " }",
    "many_operations": lambda n: "".join(f" query Q{i} {{ __typename }}" for i in range(n)),
    "long_string_argument": lambda n: '{ meetingLobby(number: "' + "9" * n + '") { title } }',
}


def at_the_limits(limits: DocumentLimits) -> dict[str, str]:
    """Documents that pass every limit while maximising what graphql-core's rules then compare pairwise."""
    k, f = limits.max_same_name, limits.max_merged_fragments
    ids = " ".join(["id"] * k)
    same = "{" + f" me {{ {ids} }}" * k + " }"
    frags = "".join(f" fragment F{i} on Query {{ me {{ {ids} }} }}" for i in range(k))
    frags += "".join(f" fragment T{i} on Query {{ __typename }}" for i in range(f - k))
    spread = "{" + "".join(f" ...F{i}" for i in range(k)) + "".join(f" ...T{i}" for i in range(f - k)) + " }" + frags
    nested = "{" + " ... on Query {" * (limits.max_nesting - 2) + " __typename" + " }" * (limits.max_nesting - 1)
    return {"limit_same_name_twice_nested": same, "limit_fragments_merged": spread, "limit_inline_nesting": nested}


AT_THE_LIMITS = at_the_limits(DocumentLimits())


def fits(document: str, limits: DocumentLimits) -> bool:
    if utf8_length(document) > limits.max_bytes:
        return False
    try:
        parse(document, max_tokens=limits.max_tokens)
    except GraphQLSyntaxError as exc:
        return "tokens" not in exc.message and "nested too deeply" not in exc.message
    return True


def largest(make: Callable[[int], str], limits: DocumentLimits) -> tuple[int, str]:
    """The largest n (by doubling, then bisection: ~30 parses) whose document fits the limits."""
    lo, hi = 1, 2
    while fits(make(hi), limits) and hi < 1 << 20:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(make(mid), limits) else (lo, mid)
    return lo, make(lo)


def hostile_documents(limits: DocumentLimits, only: str | None = None) -> dict[str, tuple[int, str]]:
    """Each shape's largest instance within the size limits, and the documents at the other limits:
    ``name -> (n, document)``."""
    found = {name: largest(make, limits) for name, make in SHAPES.items() if only in (None, name)}
    found.update({name: (1, text) for name, text in at_the_limits(limits).items() if only in (None, name)})
    return found


def _time_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def measure(limits: DocumentLimits | None = None) -> dict[str, dict[str, float | int | str]]:
    limits = limits or DocumentLimits()
    schema = build_schema(limits)._schema
    rows: dict[str, dict[str, float | int | str]] = {}
    for name, (n, text) in hostile_documents(limits).items():
        parse_ms: list[float] = []
        validate_ms: list[float] = []
        verdict = ""
        for _ in range(ROUNDS):
            validate = make_validator(limits, cache_size=1)  # a fresh cache: every round validates for real
            start = time.perf_counter()
            try:
                document = parse(text, max_tokens=limits.max_tokens)
            except GraphQLSyntaxError as exc:
                verdict = f"syntax error: {exc.message[:60]}"
                continue
            parse_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            errors: list[GraphQLError] = validate(schema, document, RULES)
            validate_ms.append((time.perf_counter() - start) * 1000)
            verdict = f"{len(errors)} error(s)" + (f": {errors[0].message}"[:100] if errors else "")
        rows[name] = {
            "n": n,
            "bytes": utf8_length(text),
            "parse_ms": round(statistics.median(parse_ms), 2) if parse_ms else 0.0,
            "validate_ms": round(statistics.median(validate_ms), 2) if validate_ms else 0.0,
            "verdict": verdict,
        }
    return rows


def normal_query_ms(rounds: int = 200) -> tuple[float, float]:
    """Median uncached validation of the web client's event subscription: (standard rules only, with limits)."""
    from strawberry.schema.schema import validate_document

    from api.graphql.document_limits import check_document

    limits = DocumentLimits()
    schema = build_schema(limits)._schema
    doc = parse(CLIENT_EVENTS)
    plain = [_time_ms(lambda: validate_document(schema, doc, RULES)) for _ in range(rounds)]
    ours = [
        _time_ms(lambda: (check_document(schema, doc, limits), validate_document(schema, doc, RULES)))
        for _ in range(rounds)
    ]
    return statistics.median(plain), statistics.median(ours)


# web/sdk/room.js's EVENTS (with PARTICIPANT substituted): the client's largest subscription.
CLIENT_EVENTS = """subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) {
  seq type actorId
  ... on ParticipantEvent { participant { id displayName role state audioMuted mutedByHost videoOn sharing } }
  ... on BulkParticipantEvent { participantIds }
  ... on ActiveSpeakerEvent { participantId }
  ... on CaptionEvent { captionBy: participantId speakerName text }
  ... on ChatMessageEvent { message { id senderId senderName text createdAt isPrivate } }
} }"""


def run() -> Mapping[str, Value]:
    limits = DocumentLimits()
    rows = measure(limits)
    for name, row in sorted(rows.items(), key=lambda kv: -float(kv[1]["validate_ms"])):
        print(
            f"  {name:34s} n={row['n']:<6} {row['bytes']:>6} B  parse {row['parse_ms']:>7} ms  "
            f"validate {row['validate_ms']:>7} ms  {row['verdict']}"
        )
    worst_name, worst = max(rows.items(), key=lambda kv: float(kv[1]["validate_ms"]))
    slowest_total = max(float(r["parse_ms"]) + float(r["validate_ms"]) for r in rows.values())
    plain, ours = normal_query_ms()
    return {
        "graphql_worst_case_validation_ms": worst["validate_ms"],
        "graphql_worst_case_validation_document": (
            f"{worst_name} (bench/graphql_validation.py SHAPES, n={worst['n']}, {worst['bytes']} bytes; "
            f"{worst['verdict']})"
        ),
        "graphql_worst_case_parse_plus_validation_ms": round(slowest_total, 2),
        "graphql_validation_limits": (
            f"max {limits.max_bytes} bytes, {limits.max_tokens} tokens, depth {limits.max_depth}, "
            f"{limits.max_aliases} aliases, cost {limits.max_cost}"
        ),
        "graphql_validation_by_shape_ms": ", ".join(
            f"{name} {row['validate_ms']} ({row['bytes']} B)"
            for name, row in sorted(rows.items(), key=lambda kv: -float(kv[1]["validate_ms"]))
        ),
        "graphql_normal_query_validation_ms": round(plain, 3),
        "graphql_normal_query_validation_with_limits_ms": round(ours, 3),
    }
