"""``Client``: the blocking twin of ``AsyncClient`` for scripts without asyncio. It runs an ``AsyncClient`` on an
event loop in a private thread and waits for each call; every method keeps the async one's signature (typed
through ``ParamSpec``), so the two cannot drift apart."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

from meetmesh.client import AsyncClient
from meetmesh.events import EventStream
from meetmesh.types import MeetingEvent, Session

P = ParamSpec("P")
R = TypeVar("R")


def _blocking(fn: Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, R]]) -> Callable[Concatenate[Client, P], R]:
    def call(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._run(fn(self._async, *args, **kwargs))

    call.__name__ = fn.__name__
    call.__doc__ = fn.__doc__
    return call


class Client:
    """``with Client("http://127.0.0.1:8000") as mm: mm.sign_up(...); mm.create_meeting("Standup")``."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="meetmesh-sdk", daemon=True)
        self._thread.start()
        self._async = self._run(self._make(base_url, token))

    @staticmethod
    async def _make(base_url: str, token: str | None) -> AsyncClient:
        return AsyncClient(base_url, token)  # the httpx client must be made on the loop that uses it

    def _run(self, coro: Coroutine[Any, Any, R], timeout: float | None = None) -> R:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self._async.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    @property
    def token(self) -> str | None:
        return self._async.token

    @token.setter
    def token(self, value: str | None) -> None:
        self._async.token = value

    @property
    def session(self) -> Session | None:
        return self._async.session

    def events(
        self, meeting_id: str, *, after_seq: int | None = None, mine: bool = False, max_reconnects: int = 10
    ) -> SyncEventStream:
        stream = self._async.events(meeting_id, after_seq=after_seq, mine=mine, max_reconnects=max_reconnects)
        return SyncEventStream(self, stream)

    execute = _blocking(AsyncClient.execute)
    sign_up = _blocking(AsyncClient.sign_up)
    log_in = _blocking(AsyncClient.log_in)
    refresh = _blocking(AsyncClient.refresh)
    log_out = _blocking(AsyncClient.log_out)
    me = _blocking(AsyncClient.me)
    create_meeting = _blocking(AsyncClient.create_meeting)
    update_meeting = _blocking(AsyncClient.update_meeting)
    meeting = _blocking(AsyncClient.meeting)
    participants = _blocking(AsyncClient.participants)
    end_meeting = _blocking(AsyncClient.end_meeting)
    cancel_meeting = _blocking(AsyncClient.cancel_meeting)
    meetings = _blocking(AsyncClient.meetings)
    invite = _blocking(AsyncClient.invite)
    uninvite = _blocking(AsyncClient.uninvite)
    invitees = _blocking(AsyncClient.invitees)
    set_calendar_options = _blocking(AsyncClient.set_calendar_options)
    join = _blocking(AsyncClient.join)
    leave = _blocking(AsyncClient.leave)
    raise_hand = _blocking(AsyncClient.raise_hand)
    lower_my_hand = _blocking(AsyncClient.lower_my_hand)
    admit = _blocking(AsyncClient.admit)
    deny = _blocking(AsyncClient.deny)
    mute = _blocking(AsyncClient.mute)
    ask_to_unmute = _blocking(AsyncClient.ask_to_unmute)
    stop_video = _blocking(AsyncClient.stop_video)
    make_cohost = _blocking(AsyncClient.make_cohost)
    revoke_cohost = _blocking(AsyncClient.revoke_cohost)
    transfer_host = _blocking(AsyncClient.transfer_host)
    lower_hand = _blocking(AsyncClient.lower_hand)
    remove = _blocking(AsyncClient.remove)
    rename = _blocking(AsyncClient.rename)
    admit_all = _blocking(AsyncClient.admit_all)
    deny_all = _blocking(AsyncClient.deny_all)
    lock = _blocking(AsyncClient.lock)
    unlock = _blocking(AsyncClient.unlock)
    lower_all_hands = _blocking(AsyncClient.lower_all_hands)
    mute_all = _blocking(AsyncClient.mute_all)
    set_waiting_room = _blocking(AsyncClient.set_waiting_room)
    spotlight = _blocking(AsyncClient.spotlight)
    send_chat = _blocking(AsyncClient.send_chat)
    edit_chat = _blocking(AsyncClient.edit_chat)
    delete_chat = _blocking(AsyncClient.delete_chat)
    chat_history = _blocking(AsyncClient.chat_history)
    create_poll = _blocking(AsyncClient.create_poll)
    launch_poll = _blocking(AsyncClient.launch_poll)
    vote = _blocking(AsyncClient.vote)
    end_poll = _blocking(AsyncClient.end_poll)
    share_poll_results = _blocking(AsyncClient.share_poll_results)
    polls = _blocking(AsyncClient.polls)
    start_recording = _blocking(AsyncClient.start_recording)
    stop_recording = _blocking(AsyncClient.stop_recording)
    recordings = _blocking(AsyncClient.recordings)
    recording = _blocking(AsyncClient.recording)
    download = _blocking(AsyncClient.download)
    create_webhook_endpoint = _blocking(AsyncClient.create_webhook_endpoint)
    delete_webhook_endpoint = _blocking(AsyncClient.delete_webhook_endpoint)


class SyncEventStream:
    """Blocking iterator over an ``EventStream``: ``with mm.events(mid) as events: for e in events: ...``.
    ``next_event(timeout)`` raises ``TimeoutError`` when nothing arrives in time."""

    def __init__(self, client: Client, stream: EventStream) -> None:
        self._client = client
        self.stream = stream

    def __enter__(self) -> SyncEventStream:
        self._client._run(self.stream.__aenter__())
        return self

    def __exit__(self, *exc: object) -> None:
        self._client._run(self.stream.aclose())

    def __iter__(self) -> Iterator[MeetingEvent]:
        return self

    def __next__(self) -> MeetingEvent:
        try:
            return self._client._run(self.stream.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def next_event(self, timeout: float) -> MeetingEvent:
        return self._client._run(asyncio.wait_for(self.stream.__anext__(), timeout))
