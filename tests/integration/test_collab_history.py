"""Who changed a shared document when (api/collab/history.py): the server records each author's share of every
stored batch, keeps that record when the batches are compacted into a snapshot, and shows it to whoever may open
the document (``documentHistory``)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.collab import store
from api.collab.service import CollabService
from testkit.collab_peer import CollabPeer
from testkit.server import ApiProcess
from tests.conftest import RunningServer
from tests.support.gql import Client
from tests.support.scaled import api_pair as running_pair
from tests.support.world import World, live_meeting

HISTORY = """query($m: ID!, $d: String!, $l: Int!) {
  documentHistory(meetingId: $m, doc: $d, limit: $l) { author at updates bytes } }"""


async def test_history_names_who_changed_the_notes_and_survives_compaction(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    ada, _ = await world.join(None, m, name="Ada")
    async with (
        CollabPeer(server.url, m["id"], "notes", host.client.token) as a,
        CollabPeer(server.url, m["id"], "notes", ada.client.token) as b,
    ):
        a.text().insert(0, "Agenda")
        await b.wait_for(lambda: str(b.text()) == "Agenda")
        b.text().insert(6, ": budget")
        b.text().insert(14, ", hiring")
        await a.wait_for(lambda: str(a.text()) == "Agenda: budget, hiring")

        async def authors() -> list[dict[str, Any]]:
            changes: list[dict[str, Any]] = (await host.client(HISTORY, m=m["id"], d="notes", l=50))["documentHistory"]
            return changes

        changes: list[dict[str, Any]] = []
        async with asyncio.timeout(5):  # stored at the next flush (200 ms)
            while {c["author"] for c in changes} != {"Host", "Ada"}:
                await asyncio.sleep(0.1)
                changes = await authors()
        by = {c["author"]: c for c in changes}
        assert by["Host"]["updates"] == 1 and by["Ada"]["updates"] == 2, changes
        assert all(isinstance(c["bytes"], int) and c["bytes"] > 0 for c in changes)
        assert [c["at"] for c in changes] == sorted((c["at"] for c in changes), reverse=True)  # newest first

    # Compaction folds the stored batches into the snapshot; the record of who wrote them stays.
    collab: CollabService = server.app.state["collab"]
    assert await store.compact(collab.svc.db, m["id"], "notes") >= 1
    assert await store.count(collab.svc.db, m["id"], "notes") == 0
    assert await authors() == changes
    # Ada may read it too (she may open the notes); the limit bounds the answer.
    assert len((await ada.client(HISTORY, m=m["id"], d="notes", l=1))["documentHistory"]) == 1


async def test_history_is_authorised_like_the_document(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    stranger, other = await live_meeting(world)
    err = await stranger.client.error(HISTORY, m=m["id"], d="notes", l=10)
    assert err.code == "FORBIDDEN", err
    err = await host.client.with_token(None).error(HISTORY, m=m["id"], d="notes", l=10)
    assert err.code == "UNAUTHENTICATED", err
    err = await host.client.error(HISTORY, m=m["id"], d="whiteboard", l=10)
    assert err.code == "BAD_INPUT", err
    err = await host.client.error(HISTORY, m=m["id"], d="notes", l=0)
    assert err.code == "BAD_INPUT" and "limit" in str(err), err
    err = await host.client.error(HISTORY, m="nosuchmeeting", d="notes", l=10)
    assert err.code == "NOT_FOUND", err
    assert (await host.client(HISTORY, m=m["id"], d="board:main", l=10))["documentHistory"] == []
    assert other["id"] != m["id"]


async def test_a_deleted_accounts_changes_read_deleted_user(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    grace = await world.user("Grace")
    await world.join(grace, m)
    async with CollabPeer(server.url, m["id"], "notes", grace.client.token) as g:
        g.text().insert(0, "minutes by Grace")
        await asyncio.sleep(0)
    changes: list[dict[str, Any]] = []
    async with asyncio.timeout(5):
        while not changes:
            await asyncio.sleep(0.1)
            changes = (await host.client(HISTORY, m=m["id"], d="notes", l=10))["documentHistory"]
    assert [c["author"] for c in changes] == ["Grace"]
    await grace.client("mutation($p: String!) { deleteAccount(password: $p) }", p="correct horse")
    after = (await host.client(HISTORY, m=m["id"], d="notes", l=10))["documentHistory"]
    assert [c["author"] for c in after] == ["deleted user"] and after[0]["at"] == changes[0]["at"]


@pytest.fixture(scope="module")
def api_pair(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiProcess, ApiProcess]]:
    with running_pair(pg_database, tmp_path_factory.mktemp("history-pair"), "history") as pair:
        yield pair


@pytest.mark.postgres
async def test_each_process_records_only_its_own_clients_changes(api_pair: tuple[ApiProcess, ApiProcess]) -> None:
    """Through Redis each process applies the other's updates too; it must not record them as changes of its own
    (they would show twice, once under each process)."""
    a, b = api_pair
    async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
        world = World(Client(a.url, http))
        host, m = await live_meeting(world)
        name = f"G{secrets.token_hex(2)}"
        guest, _ = await world.join(None, m, name=name)
        async with (
            CollabPeer(a.url, m["id"], "notes", host.client.token) as on_a,
            CollabPeer(b.url, m["id"], "notes", guest.client.token) as on_b,
        ):
            on_a.text().insert(0, "from A")
            await on_b.wait_for(lambda: str(on_b.text()) == "from A")
            on_b.text().insert(6, " and B")
            await on_a.wait_for(lambda: str(on_a.text()) == "from A and B")
            changes: list[dict[str, Any]] = []
            async with asyncio.timeout(10):
                while {c["author"] for c in changes} != {"Host", name}:
                    await asyncio.sleep(0.2)
                    changes = (await host.client(HISTORY, m=m["id"], d="notes", l=50))["documentHistory"]
            await asyncio.sleep(0.6)  # a few more flushes: nothing else may appear
            again = (await host.client(HISTORY, m=m["id"], d="notes", l=50))["documentHistory"]
    assert sorted((c["author"], c["updates"]) for c in again) == sorted([("Host", 1), (name, 1)]), again
