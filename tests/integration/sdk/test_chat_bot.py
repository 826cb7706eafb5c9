"""The chat bot example (sdk/python/examples/chat_bot.py) run as its own process against a live server for a
bounded time: it waits to be admitted, answers ``!time`` (privately when asked privately), ignores other
messages and its own, and exits when the meeting ends."""

from __future__ import annotations

import asyncio
import re
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from meetmesh import AsyncClient, MeetingEvent
from meetmesh.events import EventStream

from tests.conftest import RunningServer

BOT = Path(__file__).resolve().parents[3] / "sdk" / "python" / "examples" / "chat_bot.py"


@pytest.fixture
async def host(server: RunningServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.url) as client:
        await client.sign_up(f"bot{secrets.token_hex(6)}@example.test", "correct horse", "Bot Host")
        yield client


async def next_chat(stream: EventStream) -> MeetingEvent:
    while True:
        e = await asyncio.wait_for(stream.__anext__(), 20)
        if e.message is not None:
            return e


async def read_line(proc: asyncio.subprocess.Process, pattern: str) -> re.Match[str]:
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line, f"the bot exited before printing {pattern!r}"
        if found := re.search(pattern, line):
            return found


async def test_the_bot_answers_time_and_leaves_with_the_meeting(server: RunningServer, host: AsyncClient) -> None:
    m = await host.create_meeting("Bot test", passcode="bot42")  # guests wait in the waiting room by default
    joined = await host.join(m.number, passcode="bot42")
    cmd = [sys.executable, str(BOT), "--url", server.url, "--number", m.number, "--passcode", "bot42"]
    proc = await asyncio.create_subprocess_exec(*cmd, "--seconds", "120", stdout=asyncio.subprocess.PIPE)
    try:
        await read_line(proc, "waiting for the host")
        waiting = await host.participants(m.id, ["WAITING"])
        assert [p.display_name for p in waiting] == ["Time bot"]
        await host.admit(waiting[0].id)
        bot_id = (await read_line(proc, r"joined as (\S+)")).group(1)
        assert bot_id == waiting[0].id

        async with host.events(m.id, after_seq=joined.event_seq) as stream:
            hello = await host.send_chat(m.id, "hello bot")  # not a command: no answer
            asked = await host.send_chat(m.id, "!time")
            seen = [await next_chat(stream) for _ in range(3)]
            reply = seen[2].message
            assert reply is not None and reply.sender_id == bot_id and not reply.is_private
            assert re.fullmatch(r"It is \d\d:\d\d:\d\d UTC on \d{4}-\d\d-\d\d", reply.text or ""), reply.text
            assert [e.message.id for e in seen[:2] if e.message] == [hello.id, asked.id]

            await host.send_chat(m.id, " !TIME ", to_participant_id=bot_id)
            private = [await next_chat(stream) for _ in range(2)][1].message
            assert private is not None and private.sender_id == bot_id
            assert private.is_private and private.recipient_id == joined.participant.id
        history = [x for x in await host.chat_history(m.id) if x.sender_id == bot_id]
        assert len(history) == 2  # exactly one answer per question, none to "hello bot" or to itself

        await host.end_meeting(m.id)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
