"""``AsyncClient``: the typed async client. One method per API operation the SDK covers; each sends a document
from operations.py and decodes the answer into types.py dataclasses. Errors raise errors.py exceptions."""

from __future__ import annotations

from typing import Any, Literal

import httpx

from meetmesh import operations as ops
from meetmesh.errors import UnauthenticatedError
from meetmesh.events import EventStream, ResyncHook
from meetmesh.transport import Transport
from meetmesh.types import (
    CalendarLinks,
    ChatMessage,
    Invitees,
    JoinResult,
    Meeting,
    MeetingPage,
    Participant,
    Poll,
    Recording,
    Session,
    User,
    WebhookEndpoint,
)

_NO_RETRY = frozenset({ops.SIGN_UP, ops.LOG_IN, ops.REFRESH, ops.LOG_OUT})


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


class AsyncClient:
    """``AsyncClient("http://127.0.0.1:8000", token=...)``; or sign in with ``sign_up``/``log_in``, which make the
    client use the new access token. Use as an async context manager (or call ``aclose``)."""

    def __init__(self, base_url: str, token: str | None = None, *, http: httpx.AsyncClient | None = None) -> None:
        self.transport = Transport(base_url, token, http)
        self.session: Session | None = None

    @property
    def token(self) -> str | None:
        return self.transport.token

    @token.setter
    def token(self, value: str | None) -> None:
        self.transport.token = value

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def execute(self, document: str, /, **variables: Any) -> Any:
        """Run any document whose root field is aliased ``r``; its raw JSON (escape hatch for uncovered API).
        A signed-in client whose access token expired (15 min by default) refreshes it once and retries."""
        try:
            return await self.transport.execute(document, variables)
        except UnauthenticatedError:
            if not await self.refresh_if_signed_in(document):
                raise
            return await self.transport.execute(document, variables)

    async def refresh_if_signed_in(self, document: str | None = None) -> bool:
        """Refresh the session's tokens after an UNAUTHENTICATED answer; False if there is nothing to refresh
        (no session, or the failing call was itself a sign-in or refresh)."""
        if self.session is None or document in _NO_RETRY:
            return False
        await self.refresh()
        return True

    # Accounts -------------------------------------------------------------------------------------------------

    def _signed_in(self, data: dict[str, Any]) -> Session:
        self.session = Session.from_json(data)
        self.token = self.session.access_token
        return self.session

    async def sign_up(self, email: str, password: str, display_name: str) -> Session:
        data = await self.execute(ops.SIGN_UP, i={"email": email, "password": password, "displayName": display_name})
        return self._signed_in(data)

    async def log_in(self, email: str, password: str) -> Session:
        return self._signed_in(await self.execute(ops.LOG_IN, i={"email": email, "password": password}))

    async def refresh(self, refresh_token: str | None = None) -> Session:
        """New tokens from a refresh token (default: this client's session's)."""
        rt = refresh_token or (self.session.refresh_token if self.session else None)
        if rt is None:
            raise ValueError("no refresh token: sign in first or pass one")
        return self._signed_in(await self.execute(ops.REFRESH, t=rt))

    async def log_out(self) -> None:
        if self.session is not None:
            await self.execute(ops.LOG_OUT, t=self.session.refresh_token)
        self.session = None
        self.token = None

    async def me(self) -> User | None:
        data = await self.execute(ops.ME)
        return User.from_json(data) if data else None

    # Meetings -------------------------------------------------------------------------------------------------

    async def create_meeting(
        self,
        title: str,
        *,
        description: str | None = None,
        starts_at: str | None = None,
        duration_minutes: int | None = None,
        timezone: str | None = None,
        recurrence: str | None = None,
        passcode: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Meeting:
        """``starts_at``: ISO 8601, omit for an instant meeting. ``passcode``: "" for none, omit to get one
        generated. ``settings``: ``MeetingSettingsInput`` fields in the schema's camelCase."""
        i = _drop_none(
            {
                "title": title,
                "description": description,
                "startsAt": starts_at,
                "durationMinutes": duration_minutes,
                "timezone": timezone,
                "recurrence": recurrence,
                "passcode": passcode,
                "settings": settings,
            }
        )
        return Meeting.from_json(await self.execute(ops.CREATE_MEETING, i=i))

    async def update_meeting(self, meeting_id: str, /, **fields: Any) -> Meeting:
        """``fields``: ``UpdateMeetingInput`` fields in the schema's camelCase."""
        return Meeting.from_json(await self.execute(ops.UPDATE_MEETING, id=meeting_id, i=fields))

    async def meeting(self, meeting_id: str) -> Meeting:
        return Meeting.from_json(await self.execute(ops.MEETING_QUERY, id=meeting_id))

    async def participants(self, meeting_id: str, states: list[str] | None = None) -> list[Participant]:
        data = await self.execute(ops.PARTICIPANTS, id=meeting_id, s=states)
        return [Participant.from_json(p) for p in data["participants"]]

    async def end_meeting(self, meeting_id: str) -> Meeting:
        return Meeting.from_json(await self.execute(ops.END_MEETING, id=meeting_id))

    async def cancel_meeting(self, meeting_id: str) -> Meeting:
        return Meeting.from_json(await self.execute(ops.CANCEL_MEETING, id=meeting_id))

    async def meetings(
        self, filter: Literal["upcoming", "past"] = "upcoming", *, first: int = 20, after: str | None = None
    ) -> MeetingPage:
        """One page of the meetings you host or attended (``myMeetings``). ``"upcoming"``: scheduled or live and
        not over, soonest first; ``"past"``: ended, cancelled or over, latest first. ``first``: 1..100. Page on
        with ``after=page.next_cursor`` until it is None::

            page = await mm.meetings("past")
            while True:
                for m in page.items:
                    ...
                if page.next_cursor is None:
                    break
                page = await mm.meetings("past", after=page.next_cursor)
        """
        if filter not in ("upcoming", "past"):
            raise ValueError(f"filter must be 'upcoming' or 'past' (got {filter!r})")
        data = await self.execute(ops.MY_MEETINGS, f=filter.upper(), n=first, a=after)
        return MeetingPage.from_json(data)

    # Invitations (host and co-hosts; the server sends the iTIP e-mails) ---------------------------------------

    async def invite(self, meeting_id: str, emails: list[str]) -> Invitees:
        """Invite people to a scheduled meeting by e-mail. The server mails each address not invited before an
        iTIP ``METHOD:REQUEST`` (after its transaction commits; only where ``API_SMTP_HOST`` is set) and an updated
        one whenever the meeting's time, title or text change. Answers everyone invited now. ``BAD_INPUT`` (field
        ``emails``) for an invalid address or more than 200; ``BAD_INPUT`` for an instant meeting."""
        data = await self.execute(ops.INVITE, m=meeting_id, e=emails)
        return Invitees(meeting_id, list(data))

    async def uninvite(self, meeting_id: str, emails: list[str]) -> Invitees:
        """Withdraw invitations: each address that was invited gets an iTIP ``METHOD:CANCEL``. Answers who is
        still invited."""
        data = await self.execute(ops.UNINVITE, m=meeting_id, e=emails)
        return Invitees(meeting_id, list(data))

    async def invitees(self, meeting_id: str) -> Invitees:
        return Invitees(meeting_id, list(await self.execute(ops.INVITEES, m=meeting_id)))

    async def set_calendar_options(self, meeting_id: str, *, include_passcode: bool) -> CalendarLinks:
        """Whether the meeting's calendar entries and invitations carry its passcode and invite link (off by
        default: they link the bare meeting page). A change sends every invitee an updated ``METHOD:REQUEST``."""
        data = await self.execute(ops.SET_CALENDAR_OPTIONS, m=meeting_id, p=include_passcode)
        return CalendarLinks.from_json(data)

    # Joining --------------------------------------------------------------------------------------------------

    async def join(
        self,
        number: str,
        *,
        passcode: str | None = None,
        display_name: str | None = None,
        invite_key: str | None = None,
        client_token: str | None = None,
    ) -> JoinResult:
        """Join by meeting number (signed in, or as a guest with ``display_name``). A guest client adopts the
        guest token the server hands back, so its later calls act as that guest."""
        i = _drop_none(
            {
                "number": number,
                "passcode": passcode,
                "displayName": display_name,
                "inviteKey": invite_key,
                "clientToken": client_token,
            }
        )
        result = JoinResult.from_json(await self.execute(ops.JOIN, i=i))
        if self.token is None and result.guest_token:
            self.token = result.guest_token
        return result

    async def leave(self, meeting_id: str) -> Participant:
        return Participant.from_json(await self.execute(ops.LEAVE, m=meeting_id))

    async def raise_hand(self, meeting_id: str) -> Participant:
        return Participant.from_json(await self.execute(ops.RAISE_HAND, m=meeting_id))

    async def lower_my_hand(self, meeting_id: str) -> Participant:
        return Participant.from_json(await self.execute(ops.LOWER_MY_HAND, m=meeting_id))

    # Host controls (host and co-hosts; FORBIDDEN otherwise) ------------------------------------------------------

    async def _on_participant(self, name: str, participant_id: str) -> Participant:
        return Participant.from_json(await self.execute(ops.PARTICIPANT_CONTROLS[name], p=participant_id))

    async def admit(self, participant_id: str) -> Participant:
        return await self._on_participant("admitParticipant", participant_id)

    async def deny(self, participant_id: str) -> Participant:
        return await self._on_participant("denyParticipant", participant_id)

    async def mute(self, participant_id: str) -> Participant:
        return await self._on_participant("muteParticipant", participant_id)

    async def ask_to_unmute(self, participant_id: str) -> Participant:
        return await self._on_participant("askToUnmute", participant_id)

    async def stop_video(self, participant_id: str) -> Participant:
        return await self._on_participant("stopVideo", participant_id)

    async def make_cohost(self, participant_id: str) -> Participant:
        return await self._on_participant("makeCohost", participant_id)

    async def revoke_cohost(self, participant_id: str) -> Participant:
        return await self._on_participant("revokeCohost", participant_id)

    async def transfer_host(self, participant_id: str) -> Participant:
        return await self._on_participant("transferHost", participant_id)

    async def lower_hand(self, participant_id: str) -> Participant:
        return await self._on_participant("lowerHand", participant_id)

    async def remove(self, participant_id: str, *, block: bool = True) -> Participant:
        return Participant.from_json(await self.execute(ops.REMOVE_PARTICIPANT, p=participant_id, b=block))

    async def rename(self, participant_id: str, display_name: str) -> Participant:
        return Participant.from_json(await self.execute(ops.RENAME_PARTICIPANT, p=participant_id, n=display_name))

    async def _on_meeting(self, name: str, meeting_id: str) -> Meeting:
        return Meeting.from_json(await self.execute(ops.MEETING_CONTROLS[name], m=meeting_id))

    async def admit_all(self, meeting_id: str) -> Meeting:
        return await self._on_meeting("admitAll", meeting_id)

    async def deny_all(self, meeting_id: str) -> Meeting:
        return await self._on_meeting("denyAll", meeting_id)

    async def lock(self, meeting_id: str) -> Meeting:
        return await self._on_meeting("lockMeeting", meeting_id)

    async def unlock(self, meeting_id: str) -> Meeting:
        return await self._on_meeting("unlockMeeting", meeting_id)

    async def lower_all_hands(self, meeting_id: str) -> Meeting:
        return await self._on_meeting("lowerAllHands", meeting_id)

    async def mute_all(self, meeting_id: str, *, allow_self_unmute: bool | None = None) -> Meeting:
        return Meeting.from_json(await self.execute(ops.MUTE_ALL, m=meeting_id, a=allow_self_unmute))

    async def set_waiting_room(self, meeting_id: str, enabled: bool) -> Meeting:
        return Meeting.from_json(await self.execute(ops.SET_WAITING_ROOM, m=meeting_id, e=enabled))

    async def spotlight(self, meeting_id: str, participant_id: str | None) -> Meeting:
        return Meeting.from_json(await self.execute(ops.SPOTLIGHT, m=meeting_id, p=participant_id))

    # Chat -----------------------------------------------------------------------------------------------------

    async def send_chat(
        self, meeting_id: str, text: str, *, to_participant_id: str | None = None, reply_to_id: str | None = None
    ) -> ChatMessage:
        i = _drop_none(
            {"meetingId": meeting_id, "text": text, "toParticipantId": to_participant_id, "replyToId": reply_to_id}
        )
        return ChatMessage.from_json(await self.execute(ops.SEND_CHAT, i=i))

    async def edit_chat(self, message_id: str, text: str) -> ChatMessage:
        return ChatMessage.from_json(await self.execute(ops.EDIT_CHAT, id=message_id, t=text))

    async def delete_chat(self, message_id: str) -> ChatMessage:
        return ChatMessage.from_json(await self.execute(ops.DELETE_CHAT, id=message_id))

    async def chat_history(self, meeting_id: str, *, first: int = 50, before: str | None = None) -> list[ChatMessage]:
        """Newest page of messages (``before``: a cursor from an earlier page)."""
        data = await self.execute(ops.CHAT_HISTORY, m=meeting_id, n=first, b=before)
        return [ChatMessage.from_json(m) for m in data["items"]]

    # Polls ----------------------------------------------------------------------------------------------------

    async def create_poll(
        self, meeting_id: str, question: str, options: list[str], *, kind: str = "SINGLE", anonymous: bool = False
    ) -> Poll:
        i = {"meetingId": meeting_id, "question": question, "options": options, "kind": kind, "anonymous": anonymous}
        return Poll.from_json(await self.execute(ops.CREATE_POLL, i=i))

    async def launch_poll(self, poll_id: str) -> Poll:
        return Poll.from_json(await self.execute(ops.LAUNCH_POLL, id=poll_id))

    async def vote(self, poll_id: str, option_ids: list[str]) -> Poll:
        return Poll.from_json(await self.execute(ops.VOTE_POLL, id=poll_id, o=option_ids))

    async def end_poll(self, poll_id: str) -> Poll:
        return Poll.from_json(await self.execute(ops.END_POLL, id=poll_id))

    async def share_poll_results(self, poll_id: str) -> Poll:
        return Poll.from_json(await self.execute(ops.SHARE_POLL, id=poll_id))

    async def polls(self, meeting_id: str) -> list[Poll]:
        return [Poll.from_json(p) for p in await self.execute(ops.POLLS, m=meeting_id)]

    # Recordings and transcripts -------------------------------------------------------------------------------

    async def start_recording(self, meeting_id: str) -> Recording:
        return Recording.from_json(await self.execute(ops.START_RECORDING, m=meeting_id))

    async def stop_recording(self, meeting_id: str) -> Recording:
        return Recording.from_json(await self.execute(ops.STOP_RECORDING, m=meeting_id))

    async def recordings(self, meeting_id: str) -> list[Recording]:
        return [Recording.from_json(r) for r in await self.execute(ops.RECORDINGS, m=meeting_id)]

    async def recording(self, recording_id: str) -> Recording:
        """With its media (signed URLs) and transcript lines."""
        return Recording.from_json(await self.execute(ops.RECORDING_QUERY, id=recording_id))

    async def download(self, url: str, dest: str) -> int:
        """Stream a signed media URL (``RecordingMedia.url``) to a file; the bytes written."""
        written = 0
        async with self.transport.http.stream("GET", url) as res:
            res.raise_for_status()
            with open(dest, "wb") as f:  # noqa: ASYNC230 - chunks are small; a thread hop each costs more
                async for chunk in res.aiter_bytes():
                    f.write(chunk)
                    written += len(chunk)
        return written

    # Webhook endpoints ----------------------------------------------------------------------------------------

    async def create_webhook_endpoint(
        self, url: str, event_types: list[str] | None = None, description: str = ""
    ) -> WebhookEndpoint:
        """Register a receiver (it must echo the challenge first; see ``meetmesh.webhooks``). ``event_types``:
        empty for all but the opt-in ``chat.message``. The answer carries the signing secret."""
        i = {"url": url, "eventTypes": event_types or [], "description": description}
        data = await self.execute(ops.CREATE_WEBHOOK, i=i)
        return WebhookEndpoint.from_json(data["endpoint"], data["secret"])

    async def delete_webhook_endpoint(self, endpoint_id: str) -> bool:
        return bool(await self.execute(ops.DELETE_WEBHOOK, id=endpoint_id))

    # Subscriptions --------------------------------------------------------------------------------------------

    def events(
        self,
        meeting_id: str,
        *,
        after_seq: int | None = None,
        mine: bool = False,
        on_resync: ResyncHook | None = None,
        max_reconnects: int = 10,
    ) -> EventStream:
        """The meeting's events from ``after_seq`` on (``mine``: only events about you, ``myEvents``), resuming
        across dropped connections; see events.py."""
        return EventStream(
            self, meeting_id, after_seq=after_seq, mine=mine, on_resync=on_resync, max_reconnects=max_reconnects
        )
