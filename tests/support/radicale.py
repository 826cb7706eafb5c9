"""A real CalDAV server for tests: Radicale (PyPI ``radicale``) as a subprocess on 127.0.0.1, with an htpasswd
file, its own storage folder and one calendar collection made with MKCALENDAR (RFC 4791 section 5.3.1).

``stop()`` and ``start()`` again keep the port and the storage: "the calendar server was down for a while".
What the server stores is read back over HTTP (GET of the resource) and parsed with ``icalendar``.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import icalendar

from testkit.server import free_port
from tests.support.gql import eventually

USER = "alice"
PASSWORD = "correct horse battery staple"
START_TIMEOUT_S = 20.0
CONNECTION_FIELDS = "id provider url username createdAt lastSyncedAt lastError lastErrorAt pending failed"
CONNECT = f"""mutation($i: ConnectCalendarInput!) {{ connectCalendar(input: $i) {{ {CONNECTION_FIELDS} }} }}"""

_MKCALENDAR = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
    b"<D:displayname>Work</D:displayname>"
    b'<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>'
    b"</D:prop></D:set></C:mkcalendar>"
)


class Radicale:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        (root / "users").write_text(f"{USER}:{PASSWORD}\n")
        (root / "config").write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\n"
            "type = htpasswd\n"
            f"htpasswd_filename = {root / 'users'}\n"
            "htpasswd_encryption = plain\n"
            # Radicale delays every failed login by up to this many seconds (brute-force defence): not in tests.
            "delay = 0\n"
            "[rights]\n"
            "type = owner_only\n"
            "[storage]\n"
            f"filesystem_folder = {root / 'collections'}\n"
            "[logging]\n"
            "level = warning\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = f"http://127.0.0.1:{self.port}"
        self.calendar_url = f"{self.base}/{USER}/work/"

    def start(self) -> None:
        assert self.proc is None
        log = (self.root / "radicale.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(self.root / "config")],
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"radicale exited: {(self.root / 'radicale.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("radicale did not start listening in time") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections are accepted by the kernel, nothing answers until ``resume``."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def set_password(self, password: str) -> None:
        """The account's password changes on the server (Radicale reads the htpasswd file at every login)."""
        (self.root / "users").write_text(f"{USER}:{password}\n")

    def _client(self) -> httpx.Client:
        password = (self.root / "users").read_text().strip().split(":", 1)[1]
        return httpx.Client(auth=(USER, password), timeout=10.0, trust_env=False)

    def make_calendar(self) -> None:
        with self._client() as c:
            res = c.request("MKCALENDAR", self.calendar_url, content=_MKCALENDAR)
            assert res.status_code == 201, (res.status_code, res.text)

    def stored(self, uid: str) -> icalendar.Event | None:
        """The VEVENT stored under ``uid`` (one resource per UID), or None when there is none."""
        with self._client() as c:
            res = c.get(f"{self.calendar_url}{quote(uid, safe='')}.ics")
        if res.status_code == 404:
            return None
        assert res.status_code == 200, (res.status_code, res.text)
        cal = icalendar.Calendar.from_ical(res.content)
        assert "method" not in cal  # RFC 4791 section 4.1: stored objects carry no METHOD
        [ev] = cal.walk("VEVENT")
        assert isinstance(ev, icalendar.Event)
        return ev

    def resources(self) -> list[str]:
        """Names of the calendar's objects, from the storage folder (what the server keeps, whatever the API)."""
        folder = self.root / "collections" / "collection-root" / USER / "work"
        return sorted(p.name for p in folder.glob("*.ics"))


@contextmanager
def radicale_server(root: Path) -> Iterator[Radicale]:
    server = Radicale(root)
    server.start()
    try:
        server.make_calendar()
        yield server
    finally:
        server.stop()


def connect_input(server: Radicale, **over: str) -> dict[str, str]:
    """``ConnectCalendarInput`` (and the REST body) for the test calendar, with fields replaced by ``over``."""
    return {"url": server.calendar_url, "username": USER, "password": PASSWORD, **over}


async def when_stored(server: Radicale, uid: str, check: Callable[[icalendar.Event], bool]) -> icalendar.Event:
    """Wait (bounded) until the stored entry of ``uid`` satisfies ``check``; return it."""

    async def found() -> icalendar.Event | None:
        ev = await asyncio.to_thread(server.stored, uid)  # blocking HTTP off the loop the API server runs on
        return ev if ev is not None and check(ev) else None

    ev: icalendar.Event = await eventually(found, timeout=30, interval=0.2)
    return ev
