"""Database errors that are the caller's fault, told apart from our own bugs at the boundaries.

PostgreSQL refuses some values SQLite stores: text with a NUL character (SQLSTATE 22021 "character not in
repertoire"), numbers out of a column's range, malformed values of a type. All of SQLSTATE class 22 ("data
exception", PostgreSQL Appendix A) is a value the client sent that the database cannot hold: BAD_INPUT, not a
logged INTERNAL error. Syntax errors, constraint violations and the rest stay ours.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

DATA_EXCEPTION_CLASS = "22"


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE behind an SQLAlchemy error (asyncpg puts it on the driver's exception)."""
    if not isinstance(exc, DBAPIError):
        return None
    for candidate in (exc.orig, getattr(exc.orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


def is_bad_data(exc: BaseException) -> bool:
    code = sqlstate(exc)
    return code is not None and code.startswith(DATA_EXCEPTION_CLASS)
