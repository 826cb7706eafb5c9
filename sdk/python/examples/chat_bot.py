"""A chat bot: joins a meeting as a guest and answers ``!time`` with the current UTC time.

    python sdk/python/examples/chat_bot.py --url http://127.0.0.1:8000 --number 123-456-789 [--passcode X]
        [--name "Time bot"] [--seconds 3600]

It follows the meeting's events with the SDK's resuming stream (a dropped connection costs no message) and
stops after ``--seconds``, when the meeting ends, or on Ctrl-C. A meeting with a waiting room needs the host to
admit the bot first: it waits for that (``myEvents``) before listening to the chat."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from datetime import UTC, datetime

from meetmesh import AsyncClient, JoinResult


def answer(text: str | None) -> str | None:
    """The bot's reply to one chat message, if any."""
    if text is not None and text.strip().lower() == "!time":
        return "It is " + datetime.now(UTC).strftime("%H:%M:%S UTC on %Y-%m-%d")
    return None


async def wait_until_admitted(client: AsyncClient, joined: JoinResult) -> int:
    """The eventSeq to listen from once admitted (at once when not waiting)."""
    if joined.status == "ADMITTED":
        return joined.event_seq
    print("waiting for the host to admit me", flush=True)
    async with client.events(joined.meeting_id, after_seq=joined.event_seq, mine=True) as mine:
        async for event in mine:
            p = event.participant
            if p is not None and p.id == joined.participant.id and p.state != "WAITING":
                if p.state != "ADMITTED":
                    raise SystemExit(f"not admitted: {p.state}")
                return (await client.meeting(joined.meeting_id)).event_seq
    raise SystemExit("the meeting ended while waiting")


async def run(url: str, number: str, passcode: str | None, name: str) -> None:
    async with AsyncClient(url) as client:
        joined = await client.join(number, passcode=passcode, display_name=name)
        me = joined.participant.id
        after = await wait_until_admitted(client, joined)
        print(f"joined as {me}", flush=True)
        async with client.events(joined.meeting_id, after_seq=after) as events:
            async for event in events:
                if event.type == "MEETING_ENDED":
                    break
                msg = event.message
                if event.type != "CHAT_MESSAGE_SENT" or msg is None or msg.sender_id == me:
                    continue
                reply = answer(msg.text)
                if reply is not None:
                    # A private question gets a private answer.
                    to = msg.sender_id if msg.is_private else None
                    await client.send_chat(joined.meeting_id, reply, reply_to_id=msg.id, to_participant_id=to)
                    print(f"answered {msg.sender_name}", flush=True)
        with contextlib.suppress(Exception):  # the meeting may have ended already
            await client.leave(joined.meeting_id)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--number", required=True, help="meeting number")
    ap.add_argument("--passcode", default=None)
    ap.add_argument("--name", default="Time bot")
    ap.add_argument("--seconds", type=float, default=3600, help="stop after this long")
    args = ap.parse_args()
    with contextlib.suppress(TimeoutError, KeyboardInterrupt):
        asyncio.run(asyncio.wait_for(run(args.url, args.number, args.passcode, args.name), args.seconds))


if __name__ == "__main__":
    main()
