"""Locust scenario: a crowd of guests chatting in one big meeting, each following the meeting's live events.

Once per run a host signs up, creates a meeting (``maxParticipants`` 1000, guests allowed, no waiting room) and
joins it; every Locust user then joins that meeting as a guest, subscribes to ``meetingEvents`` from its
``JoinResult.eventSeq`` on its own WebSocket (a reader greenlet) and, about once a second, sends a chat message,
now and then toggling an emoji on a recent message or sending an ephemeral reaction. That keeps each guest far
under the 10 messages/s per-participant limit, so ``RATE_LIMITED`` is a failure here like any other error.

What Locust records:

* every GraphQL POST, checked (``errors`` in a 200 answer, a missing field or a wrong value is a failure);
* ``WS chat delivery``: for each message a user sends, the time from just before the POST until the user's own
  subscription delivers it (matched by a nonce in the text); not delivered within ``DELIVERY_TIMEOUT_S`` is a
  failure;
* ``WS connect`` (socket + ``connection_init``/``connection_ack``), and failures of the stream itself
  (``WS meetingEvents``): an error or ``complete`` from the server, a dropped socket, or an event whose ``seq``
  is not above the previous one. Gaps in ``seq`` are normal (others' private messages, hosts-only events), so
  only the order is checked.

Run via ``python -m loadtests.smoke --scenario chat`` or directly (the API must be running):
``locust -f loadtests/chat_locustfile.py --host http://127.0.0.1:8000``. Each Locust process creates its own
meeting; to put several worker processes (or a browser) in the same one, pass ``--meeting-number``.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

import gevent
from gevent.lock import Semaphore
from locust import HttpUser, between, events, task
from locust.clients import HttpSession
from locust.env import Environment
from locust.exception import StopUser

from loadtests.graphql import Check, describe_errors, gql
from loadtests.ws import GraphQLWebSocket, ProtocolError, TransportError, ws_url

SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }"
CREATE = "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id number } }"
JOIN = (
    "mutation($i: JoinMeetingInput!) {"
    " joinMeeting(input: $i) { status meetingId guestToken eventSeq participant { id } } }"
)
REACTIONS = "{ meetingReactions }"
SEND = "mutation($i: SendChatMessageInput!) { sendChatMessage(input: $i) { id text } }"
TOGGLE = "mutation($m: ID!, $e: String!) { toggleChatReaction(messageId: $m, emoji: $e) { id } }"
REACT = "mutation($m: ID!, $e: String!) { sendReaction(meetingId: $m, emoji: $e) }"
EVENTS = """subscription($m: ID!, $after: Int) {
  meetingEvents(meetingId: $m, afterSeq: $after) {
    seq
    type
    ... on ChatMessageEvent { message { id senderId text } }
  }
}"""

MEETING_SETTINGS = {"maxParticipants": 1000, "allowGuests": True, "waitingRoom": False, "guestWaitingRoom": False}
TEXT_PREFIX = "load"
FILLER = "the quick brown fox jumps over the lazy dog"

DELIVERY_TIMEOUT_S = 5.0  # a sent message not seen on the sender's own subscription by then is a failure
CONNECT_TIMEOUT_S = 10.0
RECEIVE_SLICE_S = 0.5  # the reader wakes at least this often to look for overdue messages and for the stop flag
STOP_GRACE_S = 1.5  # on stop, wait this long at most for messages in flight (+ reader join: under --stop-timeout 3)
READER_JOIN_S = RECEIVE_SLICE_S + 1.0
RECENT_MESSAGES = 50  # message ids a user remembers to react to

log = logging.getLogger(__name__)

"""Looks at a successful answer's data; returns what is wrong with it, or None."""


class StreamError(Exception):
    """The event stream misbehaved: reported to Locust as a WS failure."""


@events.init_command_line_parser.add_listener
def _add_options(parser: Any, **_kwargs: Any) -> None:
    parser.add_argument(
        "--meeting-number",
        default="",
        help="join this existing meeting (guests allowed, no waiting room) instead of creating one per process",
    )


# -- the meeting everyone joins: created once per run, by whichever user starts first --------------------------


@dataclass(frozen=True, slots=True)
class SharedMeeting:
    number: str


_meeting_lock = Semaphore()
_meeting: SharedMeeting | None = None
_meeting_failed = False


@events.test_start.add_listener
def _new_meeting_per_run(environment: Environment, **_kwargs: Any) -> None:
    global _meeting, _meeting_failed
    _meeting, _meeting_failed = None, False


def _shared_meeting(user: ChatGuest) -> SharedMeeting | None:
    """The run's meeting; the first caller creates it (its requests show up in the stats as ``host …``)."""
    global _meeting, _meeting_failed
    with _meeting_lock:  # the others wait here (cooperatively) while the first one sets it up
        if _meeting is None and not _meeting_failed:
            given = getattr(user.environment.parsed_options, "meeting_number", "")
            _meeting = SharedMeeting(number=given) if given else _create_meeting(user.client)
            _meeting_failed = _meeting is None
        return _meeting


def _create_meeting(client: HttpSession) -> SharedMeeting | None:
    email = f"load-chat-{uuid.uuid4().hex}@example.test"
    signed_up = gql(
        client,
        "host signUp",
        SIGN_UP,
        {"i": {"email": email, "password": "load test password", "displayName": "Load Host"}},
    )
    if signed_up is None:
        return None
    token = signed_up["signUp"]["accessToken"]
    created = gql(
        client,
        "host createMeeting",
        CREATE,
        {"i": {"title": "Chat load", "passcode": "", "settings": MEETING_SETTINGS}},
        token,
    )
    if created is None:
        return None
    number = created["createMeeting"]["number"]
    # The host stays in the meeting (as an idle participant) for the whole run.
    if gql(client, "host joinMeeting", JOIN, {"i": {"number": number}}, token, check=_admitted) is None:
        return None
    return SharedMeeting(number=number)


# -- the guests --------------------------------------------------------------------------------------------------


class ChatGuest(HttpUser):
    wait_time = between(0.5, 1.5)  # ~1 operation a second: a tenth of the per-participant chat limit

    token: str = ""
    meeting_id: str = ""
    participant_id: str = ""
    after_seq: int = 0
    emoji: tuple[str, ...] = ()

    def on_start(self) -> None:
        self.client.trust_env = False  # loopback only: ignore any proxy configured in the environment
        self.pending: dict[str, float] = {}  # nonce → perf_counter() just before the POST
        self.recent: deque[str] = deque(maxlen=RECENT_MESSAGES)  # message ids seen on the stream
        self.stream: GraphQLWebSocket | None = None
        self.reader: gevent.Greenlet | None = None
        self.stopping = False
        # False once something this user needs failed (recorded already): its next task stops it quietly.
        # (StopUser from on_start works too, but Locust logs a traceback for it.)
        self.usable = self._join() and self._connect()
        if self.usable:
            # Whatever ends this user's greenlet (stop, kill, an exception), the reader goes with it.
            self.greenlet.link(lambda _g: self._close_stream())
            self.reader = gevent.spawn(self._read_events)

    def _join(self) -> bool:
        meeting = _shared_meeting(self)
        if meeting is None:
            return False  # the failure that caused it is recorded once, by the user that tried
        joined = self.gql(
            "joinMeeting",
            JOIN,
            {"i": {"number": meeting.number, "displayName": f"Guest {secrets.token_hex(3)}"}},
            check=_admitted_guest,
        )
        if joined is None:
            return False
        result = joined["joinMeeting"]
        self.token = result["guestToken"]
        self.meeting_id = result["meetingId"]
        self.participant_id = result["participant"]["id"]
        self.after_seq = result["eventSeq"]
        reactions = self.gql("meetingReactions", REACTIONS, {}, check=_some_reactions)
        if reactions is None:
            return False
        self.emoji = tuple(reactions["meetingReactions"])
        return True

    def on_stop(self) -> None:
        try:
            self._await_in_flight()
        finally:
            self._close_stream()

    # -- tasks ----------------------------------------------------------------------------------------------------

    @task(8)
    def send_message(self) -> None:
        self._ensure_usable()
        nonce = secrets.token_hex(8)
        text = f"{TEXT_PREFIX} {nonce} {FILLER}"
        self.pending[nonce] = time.perf_counter()  # before the POST: the event may arrive before the answer
        sent = self.gql(
            "sendChatMessage",
            SEND,
            {"i": {"meetingId": self.meeting_id, "text": text}},
            check=lambda d: None if d["sendChatMessage"]["text"] == text else "stored text differs from sent",
        )
        if sent is None:
            self.pending.pop(nonce, None)  # not sent: nothing to deliver (the failure is recorded already)

    @task(1)
    def toggle_chat_reaction(self) -> None:
        self._ensure_usable()
        if not self.recent:
            return  # nothing seen yet to react to
        message_id = random.choice(self.recent)
        self.gql("toggleChatReaction", TOGGLE, {"m": message_id, "e": random.choice(self.emoji)})

    @task(1)
    def send_reaction(self) -> None:
        self._ensure_usable()
        self.gql(
            "sendReaction",
            REACT,
            {"m": self.meeting_id, "e": random.choice(self.emoji)},
            check=lambda d: None if d["sendReaction"] is True else "sendReaction did not answer true",
        )

    # -- the event stream -----------------------------------------------------------------------------------------

    def _connect(self) -> bool:
        started = time.perf_counter()
        try:
            stream = GraphQLWebSocket.connect(ws_url(self.host or ""), self.token, CONNECT_TIMEOUT_S)
            stream.subscribe(EVENTS, {"m": self.meeting_id, "after": self.after_seq})
        except (*TransportError, ProtocolError) as exc:
            self._report("connect", started, exc)
            return False
        self._report("connect", started)
        self.stream = stream
        return True

    def _read_events(self) -> None:
        """The reader greenlet: events in, deliveries timed, overdue messages failed; until stopped."""
        stream, last_seq = self.stream, self.after_seq
        assert stream is not None
        try:
            while not self.stopping:  # each pass waits at most RECEIVE_SLICE_S
                msg = stream.receive(RECEIVE_SLICE_S)
                received = time.perf_counter()
                if msg is not None:
                    last_seq = self._on_message(msg, last_seq, received)
                self._fail_overdue(received)
        except (*TransportError, ProtocolError, StreamError) as exc:
            if self.stopping:
                return  # the socket was closed under us on purpose
            self.usable = False
            self.pending.clear()  # they cannot arrive any more; the stream's failure stands for them
            self._report("meetingEvents", None, exc)

    def _on_message(self, msg: dict[str, Any], last_seq: int, received: float) -> int:
        if msg["type"] == "complete":
            raise StreamError("the server completed the subscription")
        if msg["type"] == "error":
            raise StreamError(f"subscription error: {describe_errors(msg.get('payload') or [])}")
        payload = msg.get("payload") or {}
        if payload.get("errors"):
            raise StreamError(f"event with errors: {describe_errors(payload['errors'])}")
        event = (payload.get("data") or {}).get("meetingEvents")
        if not isinstance(event, dict) or not isinstance(event.get("seq"), int):
            raise StreamError(f"event without a seq: {str(payload)[:200]}")
        seq: int = event["seq"]
        if seq <= last_seq:
            # Not fatal for the stream: record it and keep reading (the order check goes on from the higher seq).
            # One fixed message, so Locust's failure table groups them instead of growing a row per event.
            log.debug("%s: seq %d arrived after seq %d", self.participant_id, seq, last_seq)
            self._report("meetingEvents", None, StreamError("event out of order: seq not above the previous one"))
            return last_seq
        if event.get("type") == "CHAT_MESSAGE_SENT":
            message = event.get("message") or {}
            self.recent.append(message["id"])
            if message.get("senderId") == self.participant_id:
                self._delivered(message.get("text") or "", received)
        return seq

    def _delivered(self, text: str, received: float) -> None:
        parts = text.split(" ", 2)
        if len(parts) < 2 or parts[0] != TEXT_PREFIX:
            return  # not one of ours (someone typing in the meeting from a browser)
        sent_at = self.pending.pop(parts[1], None)
        if sent_at is None:
            return  # already failed as overdue, or its POST failed
        late = received - sent_at > DELIVERY_TIMEOUT_S  # arrived, but after the deadline (between two sweeps)
        self._report("chat delivery", sent_at, _overdue() if late else None, length=len(text), now=received)

    def _fail_overdue(self, now: float) -> None:
        overdue = [(n, t) for n, t in self.pending.items() if now - t > DELIVERY_TIMEOUT_S]
        for nonce, sent_at in overdue:
            del self.pending[nonce]
            self._report("chat delivery", sent_at, _overdue(), now=now)

    def _await_in_flight(self) -> None:
        """On stop: give messages sent just now a moment to arrive; those already overdue are failures, the
        rest were cut off by the end of the run and count neither way."""
        deadline = time.monotonic() + STOP_GRACE_S
        while self.pending and self.usable and time.monotonic() < deadline:
            gevent.sleep(0.05)
        self._fail_overdue(time.perf_counter())

    def _ensure_usable(self) -> None:
        if not self.usable:
            raise StopUser  # its failure is recorded; going on (e.g. without a stream) would measure nothing

    def _close_stream(self) -> None:
        self.stopping = True
        reader, self.reader = self.reader, None
        if reader is not None and reader is not gevent.getcurrent():
            reader.join(timeout=READER_JOIN_S)  # it notices the flag within one receive slice
            reader.kill(block=True, timeout=READER_JOIN_S)
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.close()

    def _report(
        self,
        name: str,
        started: float | None,
        exc: BaseException | None = None,
        *,
        length: int = 0,
        now: float | None = None,
    ) -> None:
        end = time.perf_counter() if now is None else now
        elapsed_ms = 0.0 if started is None else (end - started) * 1000
        self.environment.events.request.fire(
            request_type="WS",
            name=name,
            response_time=elapsed_ms,
            response_length=length,
            exception=exc,
            context={},
        )

    # -- GraphQL over HTTP ----------------------------------------------------------------------------------------

    def gql(
        self, name: str, query: str, variables: dict[str, Any], check: Check | None = None
    ) -> dict[str, Any] | None:
        return gql(self.client, name, query, variables, self.token or None, check)


def _overdue() -> StreamError:
    return StreamError(f"own message not received within {DELIVERY_TIMEOUT_S:g} s")


def _admitted(data: dict[str, Any]) -> str | None:
    status = data["joinMeeting"]["status"]
    return None if status == "ADMITTED" else f"not admitted: {status}"


def _admitted_guest(data: dict[str, Any]) -> str | None:
    return _admitted(data) or (None if data["joinMeeting"]["guestToken"] else "joined as a guest without guestToken")


def _some_reactions(data: dict[str, Any]) -> str | None:
    return None if data["meetingReactions"] else "meetingReactions is empty"
