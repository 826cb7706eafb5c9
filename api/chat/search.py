"""Search input and highlight output, independent of the database. The SQL is in `api.chat.store`.

The user's query is reduced to words (letters, digits) so nothing they type can reach FTS5's or tsquery's own
syntax; every word must match (AND), and a word ending in ``*`` matches as a prefix. The database marks matched
words with two control characters, which message text can never contain (`policy.message_text` refuses them),
and `segments` turns the marked snippet into plain-text pieces: clients render them safely without HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.errors import BadInputError

MATCH_START = "\x02"
MATCH_END = "\x03"
MAX_TERMS = 16
SNIPPET_WORDS = 20

_WORD = re.compile(r"(\w+)(\*?)")


@dataclass(frozen=True, slots=True)
class Term:
    word: str
    prefix: bool


def parse(query: str, field: str = "query") -> list[Term]:
    if len(query) > 512:
        raise BadInputError(field, f"{field} must be at most 512 characters (got {len(query)})")
    terms: list[Term] = []
    for m in _WORD.finditer(query):
        # FTS5's unicode61 tokenizer treats "_" as a separator; split the same way on both backends.
        words = [w.lower() for w in m.group(1).split("_") if w]
        terms.extend(Term(w, prefix=bool(m.group(2)) and i == len(words) - 1) for i, w in enumerate(words))
    if not terms:
        raise BadInputError(field, f"{field} must contain at least one word (got {query[:80]!r})")
    return terms[:MAX_TERMS]


def fts5_query(terms: list[Term]) -> str:
    """FTS5 MATCH syntax: quoted strings (so no word is read as an operator), implicitly ANDed."""
    return " ".join(f'"{t.word}"' + ("*" if t.prefix else "") for t in terms)


def tsquery(terms: list[Term]) -> str:
    """PostgreSQL to_tsquery syntax: quoted lexemes joined with &."""
    return " & ".join(f"'{t.word}'" + (":*" if t.prefix else "") for t in terms)


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    match: bool


def segments(marked: str) -> list[Segment]:
    """Split a snippet marked with MATCH_START/MATCH_END into plain and matched pieces, in order."""
    out: list[Segment] = []
    rest = marked
    while rest:
        start = rest.find(MATCH_START)
        if start < 0:
            out.append(Segment(rest, False))
            break
        if start > 0:
            out.append(Segment(rest[:start], False))
        end = rest.find(MATCH_END, start + 1)
        if end < 0:  # an unterminated mark (a snippet cut inside it): the rest is the match
            out.append(Segment(rest[start + 1 :], True))
            break
        if end > start + 1:
            out.append(Segment(rest[start + 1 : end], True))
        rest = rest[end + 1 :]
    return out
