"""What the API asks a calendar provider to do, and what comes back: the contract between ``api/calendars`` (which
keeps the sync outbox) and whatever talks to the calendar server (``workers/caldav.py`` for CalDAV, in the API's
process or as an arq job). Stdlib only, so both sides share it without importing each other.

A provider gets the whole entry (an iCalendar object with one VEVENT) every time, never a diff: a retry or a
duplicate is harmless (a PUT of the same resource replaces it), and several quick changes of a meeting collapse
into one write of its latest state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class CalendarOp(Enum):
    CHECK = "check"
    """Can these credentials read this calendar collection? (CalDAV: PROPFIND Depth 0, RFC 4918 section 9.1.)"""
    PUT = "put"
    """Create or replace the entry named by ``uid``."""
    DELETE = "delete"
    """Remove the entry named by ``uid`` (gone already counts as done)."""


class CalendarProblem(Enum):
    """Why a request failed, in terms the API maps to its error codes and retry decisions."""

    AUTH = "auth"
    """The server refused the credentials (HTTP 401/403)."""
    REFUSED = "refused"
    """The address may not be used (private network, not http(s)): never retried."""
    NOT_A_CALENDAR = "not_a_calendar"
    """The URL answers, but is not a calendar collection (RFC 4791 section 4.2)."""
    UNREACHABLE = "unreachable"
    """No answer: DNS, connection refused, timeout."""
    SERVER = "server"
    """Any other answer than the one expected (5xx, 412, a redirect)."""


@dataclass(frozen=True, slots=True)
class CalendarRequest:
    op: CalendarOp
    url: str
    """The calendar collection (CalDAV: the URL the user gave)."""
    username: str
    password: str
    uid: str = ""
    ics: str = ""
    """For PUT: the iCalendar object, without METHOD (RFC 4791 section 4.1)."""
    allowed_networks: tuple[str, ...] = ()
    """Private networks the operator allows (``API_WEBHOOK_ALLOWED_NETWORKS``, shared with webhooks)."""
    timeout_s: float = 10.0

    def to_dict(self) -> dict[str, object]:
        return {
            "op": self.op.value,
            "url": self.url,
            "username": self.username,
            "password": self.password,
            "uid": self.uid,
            "ics": self.ics,
            "allowed_networks": list(self.allowed_networks),
            "timeout_s": self.timeout_s,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> CalendarRequest:
        nets = d.get("allowed_networks") or ()
        return cls(
            op=CalendarOp(str(d["op"])),
            url=str(d["url"]),
            username=str(d["username"]),
            password=str(d["password"]),
            uid=str(d.get("uid", "")),
            ics=str(d.get("ics", "")),
            allowed_networks=tuple(str(n) for n in nets) if isinstance(nets, (list, tuple)) else (),
            timeout_s=float(str(d.get("timeout_s", 10.0))),
        )


@dataclass(frozen=True, slots=True)
class CalendarResult:
    problem: CalendarProblem | None = None
    """None: done."""
    detail: str = ""
    """What happened, for the user (``lastError``) and the log; never the password."""
    status_code: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict[str, object]:
        return {
            "problem": self.problem.value if self.problem else None,
            "detail": self.detail,
            "status_code": self.status_code,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> CalendarResult:
        problem = d.get("problem")
        code = d.get("status_code")
        return cls(
            problem=CalendarProblem(str(problem)) if problem else None,
            detail=str(d.get("detail", "")),
            status_code=int(str(code)) if code is not None else None,
        )


class CalendarProvider(Protocol):
    """Talks to one kind of calendar service. CalDAV is the implemented one; Google Calendar or Microsoft Graph
    would be others (docs/calendars.md says what they need: OAuth tokens instead of a password)."""

    async def call(self, req: CalendarRequest) -> CalendarResult: ...

    async def aclose(self) -> None: ...
